import type { IncomingMessage, Server } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../../../pipeline/log.ts';
import { hostRefusal, refuseUpgrade, tokenRefusal } from '../network-access.ts';

/** The rules {@link checkAccess} applies: a sink's or the dashboard's own options. */
export interface AccessRules {
  readonly token?: string | undefined;
  readonly allowedOrigins: readonly string[];
  readonly allowedHosts?: readonly string[];
}

/**
 * Who may open the viewer's WebSocket: with a token configured, only requests that carry it;
 * from a browser (which always sends Origin), only pages of this server or of an allowed
 * origin, so a page elsewhere cannot read a user's cameras through their browser.
 */
export function checkAccess(
  request: IncomingMessage,
  options: AccessRules,
): { ok: true } | { ok: false; status: 401 | 403; reason: string } {
  const badToken = tokenRefusal(request, options.token);
  if (badToken) return { ok: false, status: 401, reason: badToken };
  const badHost = hostRefusal(request, options.token, options.allowedHosts);
  if (badHost) return { ok: false, status: 403, reason: badHost };
  const origin = request.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== request.headers.host) {
      return { ok: false, status: 403, reason: `origin ${origin} is not allowed (add it to the viewer's allowedOrigins)` };
    }
  }
  return { ok: true };
}

/**
 * Hands the server's WebSocket upgrades at `path` to `sockets` when {@link checkAccess} lets them
 * in; refuses the rest with a plain HTTP answer (404 at any other path, 401 or 403 with the
 * reason, logged). The viewer and the cluster dashboard speak the same protocol under the same rules.
 */
export function acceptUpgrades(
  server: Server,
  sockets: WebSocketServer,
  at: { readonly path: string; readonly name: string; readonly rules: AccessRules; readonly log: Pick<Logger, 'warn'> },
): void {
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== at.path) {
      refuseUpgrade(socket, 404, `the ${at.name}'s WebSocket is at ${at.path}`);
      return;
    }
    const access = checkAccess(request, at.rules);
    if (!access.ok) {
      at.log.warn(`${at.name}: refused a connection: ${access.reason}`);
      refuseUpgrade(socket, access.status, access.reason);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client, request));
  });
}
