import type { RawData } from 'ws';
import { z } from 'zod';
import type { ClientChannel } from './client-channel.ts';
import { ALL_STREAMS, TOPICS, type ClientMessage, type ErrorCode, type Topic } from './protocol.ts';

const names = z.array(z.string().min(1).max(200)).max(1000);
const subscription = z.strictObject({
  type: z.enum(['subscribe', 'unsubscribe']),
  streams: names.optional(),
  topics: z.array(z.string()).min(1).max(TOPICS.length * 2),
});
const ping = z.strictObject({ type: z.literal('ping'), id: z.union([z.string().max(200), z.number()]).optional() });

/**
 * Checks one client message against the schema (docs/protocol.md), so a malformed or hostile
 * message gets an error reply instead of reaching any logic; returns the message, or the error
 * to send back.
 */
function parseClientMessage(text: string): ClientMessage | { error: ErrorCode; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'bad-json', message: 'messages must be JSON objects, e.g. {"type":"subscribe","topics":["video"]}' };
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'ping') {
    return { error: 'unknown-type', message: `unknown message type ${JSON.stringify(type)}: expected subscribe, unsubscribe or ping` };
  }
  const parsed = (type === 'ping' ? ping : subscription).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: 'bad-message', message: `${type}: ${issue.path.join('.') || 'message'}: ${issue.message}` };
  }
  return parsed.data;
}

/** What a server offers its clients, for {@link answerClientMessage} to check requests against. */
export interface Offered {
  readonly topics: readonly Topic[];
  /** A stream name a client may ask for; any name when left out (a cluster's streams come and go). */
  readonly knowsStream?: (stream: string) => boolean;
  /** The streams named in an `unknown-stream` error. */
  readonly streams?: () => readonly string[];
}

/**
 * Answers one client message as the viewer protocol says (docs/protocol.md): an error reply for
 * a bad message, `pong` for `ping`, and for `subscribe`/`unsubscribe` the changed subscriptions.
 * The viewer and the cluster dashboard speak the same protocol; returns the topics of a new
 * subscription, for the server to send what it already has of them at once.
 */
export function answerClientMessage(channel: ClientChannel, data: RawData, isBinary: boolean, offered: Offered): Topic[] | undefined {
  const message = isBinary ? undefined : parseClientMessage(data.toString());
  if (!message) return void channel.send({ type: 'error', code: 'bad-message', message: 'binary messages are not accepted' });
  if ('error' in message) return void channel.send({ type: 'error', code: message.error, message: message.message });
  if (message.type === 'ping') return void channel.send(message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
  const wanted = message.streams ?? [ALL_STREAMS];
  const unknownStream = offered.knowsStream && wanted.find((s) => s !== ALL_STREAMS && !offered.knowsStream!(s));
  if (unknownStream) {
    return void channel.send({ type: 'error', code: 'unknown-stream', message: `no stream "${unknownStream}"; streams: ${(offered.streams?.() ?? []).join(', ')}` });
  }
  const unknownTopic = message.topics.find((t) => !(offered.topics as readonly string[]).includes(t));
  if (unknownTopic) return void channel.send({ type: 'error', code: 'unknown-topic', message: `no topic "${unknownTopic}"; topics: ${offered.topics.join(', ')}` });
  const topics = message.topics as Topic[];
  if (message.type === 'subscribe') channel.subscribe(wanted, topics);
  else channel.unsubscribe(wanted, topics);
  channel.send({ type: 'subscribed', subscriptions: channel.subscriptionList() });
  return message.type === 'subscribe' ? topics : undefined;
}
