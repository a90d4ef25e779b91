/**
 * The Foxglove WebSocket protocol, the small part of it this server speaks.
 *
 * - Text frames carry JSON with an `op`; binary frames start with a one-byte opcode and use
 *   little-endian integers.
 * - Server to client: `serverInfo` first, then `advertise`; `status` and `removeStatus` for
 *   what the user should see; binary `messageData` for every message on a subscribed channel.
 * - Client to server: `subscribe` and `unsubscribe` (subscription ids are the client's choice).
 *   Everything else (client publish, parameters, services, assets) needs a capability this
 *   server does not advertise, and is answered with an error status.
 *
 * The legacy `foxglove.websocket.v1` and the Foxglove SDK's `foxglove.sdk.v1` share these
 * messages byte for byte; the SDK's additions (playback control) are for recordings, not for a
 * live pipeline.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Refusal } from '../../../servers/access.ts';

/** Subprotocols this server speaks; a client must offer at least one of them. */
export const SUBPROTOCOLS = ['foxglove.websocket.v1', 'foxglove.sdk.v1'] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

/**
 * The subprotocol to answer with: the first one in the client's list (its order of preference,
 * RFC 6455) that this server speaks, or undefined when it offered none of them.
 */
export function chooseSubprotocol(offered: Iterable<string>): Subprotocol | undefined {
  for (const protocol of offered) {
    const known = SUBPROTOCOLS.find((candidate) => candidate === protocol);
    if (known) return known;
  }
  return undefined;
}

/**
 * Why an upgrade request (that passed the access policy, servers/access.ts) is not a Foxglove
 * client, or undefined when it is: it must offer one of the {@link SUBPROTOCOLS}; anything else
 * is answered 400 before the WebSocket opens, as the Foxglove SDK does.
 */
export function subprotocolRefusal(request: IncomingMessage): Refusal | undefined {
  const header = request.headers['sec-websocket-protocol'];
  const offered = (header ?? '').split(',').map((protocol) => protocol.trim()).filter(Boolean);
  return chooseSubprotocol(offered) ? undefined : { status: 400, reason: `offer the WebSocket subprotocol ${SUBPROTOCOLS.join(' or ')}` };
}

/** A channel as `advertise` describes it. */
export interface ChannelAdvert {
  readonly id: number;
  readonly topic: string;
  /** Message encoding, e.g. `json`. */
  readonly encoding: string;
  /** e.g. `foxglove.CompressedImage`; Foxglove panels recognise their types by this exact name. */
  readonly schemaName: string;
  /** The schema text in `schemaEncoding` (a JSON Schema for `json` channels). */
  readonly schema: string;
  readonly schemaEncoding: string;
}

export const StatusLevel = { info: 0, warning: 1, error: 2 } as const;
export type StatusLevel = (typeof StatusLevel)[keyof typeof StatusLevel];

export type ServerMessage =
  | {
      readonly op: 'serverInfo';
      readonly name: string;
      readonly capabilities: readonly string[];
      readonly metadata?: Readonly<Record<string, string>>;
      /** A new id tells a reconnecting app that this is a new server, so it clears its state. */
      readonly sessionId: string;
    }
  | { readonly op: 'advertise'; readonly channels: readonly ChannelAdvert[] }
  | { readonly op: 'status'; readonly level: StatusLevel; readonly message: string; readonly id?: string }
  | { readonly op: 'removeStatus'; readonly statusIds: readonly string[] };

const BINARY_MESSAGE_DATA = 0x01;
/** `op (u8) | subscription id (u32) | timestamp in ns (u64)`. */
export const MESSAGE_DATA_HEADER_BYTES = 1 + 4 + 8;

/**
 * The per-subscription head of a binary `messageData`: the payload that follows it is the same
 * for every client, so it is sent as a second fragment of the same WebSocket message instead of
 * being copied behind each client's header.
 */
export function messageDataHeader(subscriptionId: number, timestampNs: bigint): Buffer {
  const header = Buffer.allocUnsafe(MESSAGE_DATA_HEADER_BYTES);
  header.writeUInt8(BINARY_MESSAGE_DATA, 0);
  header.writeUInt32LE(subscriptionId, 1);
  header.writeBigUInt64LE(timestampNs, 5);
  return header;
}

const subscriptionId = z.number().int().min(0).max(0xffff_ffff);
const channelId = z.number().int().min(0).max(0xffff_ffff);

const clientRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('subscribe'), subscriptions: z.array(z.object({ id: subscriptionId, channelId })) }),
  z.object({ op: z.literal('unsubscribe'), subscriptionIds: z.array(subscriptionId) }),
]);

export type ClientRequest = z.infer<typeof clientRequest>;

/** A request this server acts on, or why it cannot: the reason goes back as an error status. */
export type ParsedRequest = { readonly ok: true; readonly request: ClientRequest } | { readonly ok: false; readonly reason: string };

export function parseClientRequest(text: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'message is not JSON' };
  }
  const op = typeof json === 'object' && json !== null && 'op' in json ? (json as { op: unknown }).op : undefined;
  if (op !== 'subscribe' && op !== 'unsubscribe') {
    return { ok: false, reason: `op ${JSON.stringify(op) ?? 'missing'} is not supported by this server (only subscribe and unsubscribe)` };
  }
  const parsed = clientRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `malformed ${op}: ${issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid'}` };
  }
  return { ok: true, request: parsed.data };
}
