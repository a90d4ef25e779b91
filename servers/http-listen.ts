import type { Server } from 'node:http';

/**
 * `server.listen` as a promise whose error names the fix: a port in use or a privileged port
 * fails while the graph is built, not on the first client.
 */
export function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') reject(new Error(`${what}: port ${port} is in use: choose another port or stop the other process`));
      else if (error.code === 'EACCES') reject(new Error(`${what}: no permission to listen on port ${port}: choose a port above 1023`));
      else reject(new Error(`${what} cannot listen on ${host}:${port}: ${error.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** A host as it appears in a URL: a wildcard bind is reached through loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
