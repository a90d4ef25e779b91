/**
 * Access checks shared by the servers that stream to the network (viewer, Foxglove): loopback
 * detection, the client's token, the Host a browser names, and refusing an upgrade with a plain
 * HTTP answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Whether binding `host` keeps a server on this machine: `localhost`, or an address (never a
 * name that merely starts like one: `127.evil.example` and `127.0.0.1.nip.io` are DNS names that
 * can point anywhere) in 127.0.0.0/8 or `::1`, IPv4-mapped ones included.
 */
export function isLoopback(host: string): boolean {
  return host.toLowerCase() === 'localhost' || isLoopbackAddress(host);
}

/** Whether `address` is an IP address of the loopback interface; false for any name. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return bare.split('.')[0] === '127';
  if (version !== 6) return false;
  const lower = bare.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  return mapped !== undefined && isIP(mapped) === 4 && mapped.split('.')[0] === '127';
}

/** The names a browser may use for a loopback server: what DNS rebinding cannot forge. */
const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The token a request presents: `Authorization: Bearer …`, else `?token=…`. */
export function presentedToken(request: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (bearer) return bearer[1]!.trim();
  return new URL(request.url ?? '/', 'http://server').searchParams.get('token') ?? undefined;
}

/** Why the request's token is not good enough, or undefined when it is (or none is needed). */
export function tokenRefusal(request: IncomingMessage, token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const presented = presentedToken(request);
  if (presented === undefined) return 'this endpoint needs a token: add ?token=<token> to the URL or send Authorization: Bearer <token>';
  return sameSecret(presented, token) ? undefined : 'wrong token';
}

/**
 * Why a request to a server without a token must be refused, or undefined. A tokenless server
 * listens on loopback only, and a request naming any other Host came through DNS rebinding (a
 * web page that points its own domain at 127.0.0.1 to read the cameras). So the Host must be
 * exactly one of: `localhost`, `127.0.0.1`, `[::1]`, the address the connection came in on (a
 * server bound to 127.0.0.2), or one of `extraHosts` (a name the user put in /etc/hosts). A
 * name is never judged by its look: `127.evil.example` is refused.
 */
export function hostRefusal(request: IncomingMessage, token: string | undefined, extraHosts: readonly string[] = []): string | undefined {
  if (token !== undefined) return undefined;
  const host = request.headers.host;
  if (host === undefined) return undefined; // not a browser; HTTP/1.0 tools send none
  const hostname = hostnameOf(host).toLowerCase();
  const allowed = [...LOOPBACK_HOST_NAMES, ...extraHosts.map((name) => hostnameOf(name).toLowerCase())];
  const local = request.socket.localAddress;
  if (local !== undefined && isLoopbackAddress(local)) allowed.push(local.toLowerCase().replace(/^::ffff:/, ''));
  return allowed.includes(hostname)
    ? undefined
    : `Host ${host} is not a name of this server (${allowed.join(', ')}); add it to the sink's allowedHosts, or set a token to serve other names`;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port` without the port and brackets. */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(1, end);
  }
  // A bare IPv6 address has colons but no port.
  return isIP(host) === 6 ? host : host.split(':')[0]!;
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers a refused upgrade with a plain HTTP response and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: 400 | 401 | 403 | 404 | 503, reason: string): void {
  const body = `${reason}\n`;
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(status === 401 ? ['WWW-Authenticate: Bearer'] : []),
  ];
  // The peer may already be gone; nothing to report then.
  socket.on('error', () => {});
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
