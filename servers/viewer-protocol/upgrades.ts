import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { refuseUpgrade } from '../access.ts';

/**
 * The upgrade handler of a server speaking the viewer protocol (the viewer, the cluster
 * dashboard), for requests that passed the access policy (../access.ts: Host, token and Origin,
 * checked by the guarded server before this): hands upgrades at `path` to `sockets`; refuses
 * any other path with a plain HTTP 404.
 */
export function viewerUpgrades(
  sockets: WebSocketServer,
  at: { readonly path: string; readonly name: string },
): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== at.path) {
      refuseUpgrade(socket, 404, `the ${at.name}'s WebSocket is at ${at.path}`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client, request));
  };
}
