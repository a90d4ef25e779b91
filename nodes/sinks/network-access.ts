/**
 * Access checks shared by the servers that stream to the network (viewer, Foxglove): loopback
 * detection, the client's token, and refusing an upgrade with a plain HTTP answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

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
 * Why a request to a server without a token must be refused, or undefined: a tokenless server
 * listens on loopback only, and a request whose Host is not a loopback name came through DNS
 * rebinding (a web page that points its own domain at 127.0.0.1 to read the cameras).
 */
export function hostRefusal(request: IncomingMessage, token: string | undefined): string | undefined {
  if (token !== undefined) return undefined;
  const host = request.headers.host;
  if (host === undefined) return undefined; // not a browser; HTTP/1.0 tools send none
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!;
  return isLoopback(hostname) ? undefined : `Host ${host} is not this machine's loopback name; set a token to serve other names`;
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

/** Answers a refused upgrade with a plain HTTP response and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: 400 | 401 | 403 | 404, reason: string): void {
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
