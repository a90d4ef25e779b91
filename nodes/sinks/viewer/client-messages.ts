import type { RawData } from 'ws';
import type { ClientChannel } from './client-channel.ts';
import { ALL_STREAMS, parseClientMessage, type Topic } from './protocol.ts';

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
