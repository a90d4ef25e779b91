/**
 * Who may open the Foxglove endpoint, past the access policy every server shares
 * (../network-access.ts: a Host naming this server, the token when one is set, a token required
 * off loopback):
 *
 * - a browser (which sends Origin) only from `allowedOrigins`, Foxglove's web app by default;
 *   the Foxglove desktop app and scripts send no Origin;
 * - a client must offer one of the Foxglove subprotocols; anything else is not a Foxglove
 *   client and is answered 400 before the WebSocket opens, as the Foxglove SDK does.
 */
import type { IncomingMessage } from 'node:http';
import type { Refusal } from '../network-access.ts';
import { chooseSubprotocol, SUBPROTOCOLS } from './foxglove-wire.ts';

/** Why an upgrade request (that passed the access policy) may not open a connection, or undefined when it may. */
export function refusalOf(request: IncomingMessage, allowedOrigins: readonly string[]): Refusal | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins.includes(origin)) {
    return { status: 403, reason: `origin ${origin} is not allowed (add it to the foxglove sink's allowedOrigins)` };
  }
  if (!chooseSubprotocol(offeredSubprotocols(request))) {
    return { status: 400, reason: `offer the WebSocket subprotocol ${SUBPROTOCOLS.join(' or ')}` };
  }
  return undefined;
}

function offeredSubprotocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return (header ?? '').split(',').map((protocol) => protocol.trim()).filter(Boolean);
}
