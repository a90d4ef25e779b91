import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../../../pipeline/log.ts';
import { refuseUpgrade } from '../network-access.ts';

/**
 * Why a browser may not open the viewer protocol's WebSocket, or undefined when it may. The
 * Host and the token are checked before this, for every route (../network-access.ts); here,
 * a browser (which always sends Origin) is let in only from a page of this server or of an
 * allowed origin, so a page elsewhere cannot read a user's cameras through their browser.
 */
export function originRefusal(request: IncomingMessage, allowedOrigins: readonly string[], server: string): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined || allowedOrigins.includes(origin)) return undefined;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  return originHost === request.headers.host ? undefined : `origin ${origin} is not allowed (add it to the ${server}'s allowedOrigins)`;
}

/**
 * The upgrade handler of a server speaking the viewer protocol (the viewer, the cluster
 * dashboard), for requests that passed the access policy: hands upgrades at `path` to `sockets`
 * when {@link originRefusal} lets them in; refuses the rest with a plain HTTP answer (404 at any
 * other path, 403 with the reason, logged).
 */
export function viewerUpgrades(
  sockets: WebSocketServer,
  at: { readonly path: string; readonly name: string; readonly allowedOrigins: readonly string[]; readonly log: Pick<Logger, 'warn'> },
): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== at.path) {
      refuseUpgrade(socket, 404, `the ${at.name}'s WebSocket is at ${at.path}`);
      return;
    }
    const refusal = originRefusal(request, at.allowedOrigins, at.name);
    if (refusal) {
      at.log.warn(`${at.name}: refused a connection: ${refusal}`);
      refuseUpgrade(socket, 403, refusal);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client, request));
  };
}
