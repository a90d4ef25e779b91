/**
 * Who may open the Foxglove endpoint.
 *
 * - Off loopback, a token is required (checked when the sink is created): the endpoint streams
 *   camera video to anyone who can reach the port.
 * - When a token is set (on loopback too), every connection must present it, as a `?token=`
 *   query parameter (what Foxglove's connection URL can carry) or an `Authorization: Bearer`
 *   header (for scripts).
 * - A client must offer one of the Foxglove subprotocols; anything else is not a Foxglove
 *   client and is answered 400 before the WebSocket opens, as the Foxglove SDK does.
 */
import type { IncomingMessage } from 'node:http';
import { hostRefusal, tokenRefusal } from '../network-access.ts';
import { chooseSubprotocol, SUBPROTOCOLS } from './foxglove-wire.ts';

export interface Refusal {
  readonly status: 400 | 401 | 403 | 503;
  readonly reason: string;
}

/**
 * Why an upgrade request may not open a connection, or undefined when it may. Browsers (which
 * send Origin) are accepted from `allowedOrigins` only, Foxglove's web app by default; the
 * Foxglove desktop app and scripts send no Origin.
 */
export function refusalOf(
  request: IncomingMessage,
  token: string | undefined,
  allowedOrigins: readonly string[],
  allowedHosts: readonly string[] = [],
): Refusal | undefined {
  const badToken = tokenRefusal(request, token);
  if (badToken) return { status: 401, reason: badToken };
  const badHost = hostRefusal(request, token, allowedHosts);
  if (badHost) return { status: 403, reason: badHost };
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
