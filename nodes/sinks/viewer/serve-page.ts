/** The dashboard page over HTTP, for the viewer and for the cluster's dashboard. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Only the page itself is served: no path is ever mapped to a file, so nothing can traverse. */
export function servePage(req: IncomingMessage, res: ServerResponse, page: Buffer): void {
  const pathname = new URL(req.url ?? '/', 'http://viewer').pathname;
  if (pathname !== '/' && pathname !== '/index.html') {
    sendText(res, 404, 'not found');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed');
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': page.length,
    // The page changes with the code; a stale cached copy would speak an old wire format.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : page);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}
