/**
 * The one access policy of every server Panoptes opens (the viewer's page, socket and health
 * routes, the Foxglove endpoint, the metrics port, the cluster dashboard):
 *
 * - at start ({@link checkBind}): binding anything but loopback needs a token, else a
 *   {@link ConfigError} (exit 2) naming the fix;
 * - per request, every route and every WebSocket upgrade ({@link requestRefusal},
 *   {@link createGuardedServer}): a Host that names this server, else 403 (DNS rebinding, no
 *   Host at all); then the token when one is set, else 401;
 * - per WebSocket upgrade, from a browser ({@link originRefusal}): an Origin the server allows,
 *   else 403, so a page elsewhere cannot reach the cameras through the user's browser.
 *
 * What is particular to a server (the path of its socket, Foxglove's subprotocols, a client
 * cap) is checked by the server after this.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { ConfigError } from '../pipeline/config/validation.ts';
import type { Logger } from '../pipeline/log.ts';

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

/** The token a request presents: `Authorization: Bearer …`, else `?token=…`. */
export function presentedToken(request: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (bearer) return bearer[1]!.trim();
  return new URL(request.url ?? '/', 'http://server').searchParams.get('token') ?? undefined;
}

/** A token as every server's options take it (viewer, Foxglove, metrics; the dashboard's --token). */
export const accessToken = z
  .string()
  .min(8, 'use 8 characters or more')
  .describe('Required from every client (?token= or Authorization: Bearer), on every route; mandatory off loopback');

/** Host names a browser may use besides the loopback ones, as every server's options take them. */
export const allowedHostsOption = z
  .array(z.string())
  .default([])
  .describe('Host names besides localhost and loopback addresses that clients may use (a name in /etc/hosts, the name a token-guarded server is reached by)');

/**
 * Who may use one server (the viewer's page, socket and health routes, the Foxglove endpoint,
 * the metrics port, the cluster dashboard): one policy for all of them.
 */
export interface AccessPolicy {
  /** The server, as messages name it: `viewer`, `foxglove`, `metrics`, `dashboard`. */
  readonly server: string;
  /** The address it binds. */
  readonly host: string;
  readonly token?: string | undefined;
  readonly allowedHosts?: readonly string[] | undefined;
  /** Where the user sets the token and the names: a sink's options, or the command line. */
  readonly settings: 'sink' | 'command line';
  /** Browser origins allowed to open the server's WebSockets, besides its own pages (`ownPages`). */
  readonly allowedOrigins?: readonly string[] | undefined;
  /**
   * Whether the server serves the pages that open its WebSocket (the viewer, the dashboard): a
   * browser on one of them sends this server's own origin, which is then let in. Foxglove
   * serves no page, so only its `allowedOrigins` are.
   */
  readonly ownPages?: boolean | undefined;
}

function tokenSetting(policy: AccessPolicy): string {
  return policy.settings === 'sink' ? `the ${policy.server} sink's token option` : '--token';
}

function hostsSetting(policy: AccessPolicy): string {
  return policy.settings === 'sink' ? `the ${policy.server} sink's allowedHosts` : '--allowed-host';
}

/** How a refused origin may be let in: a sink lists it; the command-line dashboard takes only its own page. */
function originRemedy(policy: AccessPolicy): string {
  return policy.settings === 'sink' ? `add it to the ${policy.server} sink's allowedOrigins` : `open the ${policy.server}'s own page instead`;
}

/**
 * The check made when a server starts: binding anything but loopback without a token would
 * hand the cameras (or the pipeline's state) to the network. A config mistake (exit 2), with
 * the fix.
 */
export function checkBind(policy: AccessPolicy): void {
  if (isLoopback(policy.host) || policy.token !== undefined) return;
  throw new ConfigError(
    `${policy.server}: binding ${policy.host} makes it reachable from the network, so it needs a token: ` +
      `set ${tokenSetting(policy)} (8+ characters; clients then send ?token=<token> or Authorization: Bearer <token>), or bind 127.0.0.1`,
  );
}

export interface Refusal {
  readonly status: 400 | 401 | 403 | 404 | 503;
  readonly reason: string;
}

/**
 * Why a request (any route, WebSocket upgrades included) may not be served, or undefined when
 * it may. First the Host (403): it must be there, and name this server: `localhost`, a
 * loopback address (`127.0.0.1`, `[::1]`, …), the address the connection came in on, the
 * address the server binds, or one of `allowedHosts`. Any other name came through DNS
 * rebinding (a page elsewhere pointing its own name at 127.0.0.1 to read the cameras) or is not
 * one the user named; a name is never judged by its look (`127.evil.example` is refused). A
 * request without Host (HTTP/1.0 tools, raw sockets) is refused too: no rule could vouch for
 * it. Then, when the server has a token, the token (401).
 */
export function requestRefusal(request: IncomingMessage, policy: AccessPolicy): Refusal | undefined {
  const badHost = hostRefusal(request, policy);
  if (badHost) return { status: 403, reason: badHost };
  const badToken = tokenRefusal(request, policy.token);
  if (badToken) return { status: 401, reason: badToken };
  return undefined;
}

/**
 * Why a WebSocket upgrade that passed {@link requestRefusal} may not open, judged by its Origin,
 * or undefined when it may. A browser always sends Origin, and is let in only from one of
 * `allowedOrigins` or, for a server with {@link AccessPolicy.ownPages}, from a page of this
 * server (Origin naming the same host and port as Host). Clients that are not browsers (the
 * Foxglove desktop app, scripts) send no Origin and are not judged by it.
 */
export function originRefusal(request: IncomingMessage, policy: AccessPolicy): Refusal | undefined {
  const origin = request.headers.origin;
  if (origin === undefined || (policy.allowedOrigins ?? []).includes(origin)) return undefined;
  if (policy.ownPages && originHost(origin) === request.headers.host) return undefined;
  return { status: 403, reason: `origin ${origin} is not allowed (${originRemedy(policy)})` };
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function hostRefusal(request: IncomingMessage, policy: AccessPolicy): string | undefined {
  const host = request.headers.host?.trim();
  if (!host) return `a request must name the server in its Host header (e.g. Host: 127.0.0.1:${request.socket.localPort ?? '<port>'})`;
  const hostname = hostnameOf(host).toLowerCase();
  if (hostname === 'localhost' || isLoopbackAddress(hostname)) return undefined;
  const named = [...(policy.allowedHosts ?? [])];
  if (!WILDCARDS.includes(policy.host)) named.push(policy.host);
  const local = request.socket.localAddress;
  if (local !== undefined) named.push(local.replace(/^::ffff:/i, ''));
  if (named.some((name) => hostnameOf(name).toLowerCase() === hostname)) return undefined;
  return `Host ${host} is not a name of this server: use 127.0.0.1 or localhost, or add the name to ${hostsSetting(policy)}`;
}

/** Addresses that bind every interface: never a name a client could use. */
const WILDCARDS = ['0.0.0.0', '::', '[::]', ''];

/** Why the request's token is not good enough, or undefined when it is (or none is needed). */
function tokenRefusal(request: IncomingMessage, token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const presented = presentedToken(request);
  if (presented === undefined) return 'this server needs a token: add ?token=<token> to the URL or send Authorization: Bearer <token>';
  return sameSecret(presented, token) ? undefined : 'wrong token';
}

/** Logs refusals at most once per 10 s per server, with how many were left out: a scanner cannot flood the log. */
function refusalLogger(policy: AccessPolicy, log: Pick<Logger, 'warn'>): (request: IncomingMessage, refusal: Refusal) => void {
  let lastAt = 0;
  let quiet = 0;
  return (request, refusal) => {
    const now = Date.now();
    if (now - lastAt < 10_000) {
      quiet++;
      return;
    }
    const more = quiet > 0 ? ` (and ${quiet} more refused since the last line)` : '';
    lastAt = now;
    quiet = 0;
    log.warn(`${policy.server}: refused ${request.socket.remoteAddress ?? 'a client'} (${refusal.status}): ${refusal.reason}${more}`);
  };
}

/**
 * An HTTP server whose every request and every WebSocket upgrade passes
 * {@link requestRefusal}, and every upgrade {@link originRefusal} too, before `handlers` see
 * it; a refused upgrade is answered before it becomes a WebSocket. Node's own 400 for an HTTP/1.1 request without Host is turned off, so
 * every request without Host gets the same 403 and reason.
 */
export function createGuardedServer(
  policy: AccessPolicy,
  handlers: {
    readonly request: (req: IncomingMessage, res: ServerResponse) => void;
    readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
    readonly log: Pick<Logger, 'warn'>;
  },
  options: ServerOptions = {},
): Server {
  const logRefusal = refusalLogger(policy, handlers.log);
  const server = createServer({ ...options, requireHostHeader: false }, (req, res) => {
    const refusal = requestRefusal(req, policy);
    if (!refusal) {
      handlers.request(req, res);
      return;
    }
    logRefusal(req, refusal);
    const body = `${refusal.reason}\n`;
    res.writeHead(refusal.status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      Connection: 'close',
      ...(refusal.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = requestRefusal(req, policy) ?? (handlers.upgrade ? originRefusal(req, policy) : undefined);
    if (refusal) {
      logRefusal(req, refusal);
      refuseUpgrade(socket, refusal.status, refusal.reason);
    } else if (handlers.upgrade) {
      handlers.upgrade(req, socket, head);
    } else {
      refuseUpgrade(socket, 404, `the ${policy.server} serves no WebSocket`);
    }
  });
  return server;
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
export function refuseUpgrade(socket: Duplex, status: Refusal['status'], reason: string): void {
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
