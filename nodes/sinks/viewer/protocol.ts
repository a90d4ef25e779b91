/**
 * The viewer protocol's messages (docs/protocol.md): what clients may send, checked with a
 * schema so a malformed or hostile message gets an error reply instead of reaching any logic.
 */
import { z } from 'zod';
import type { AnalyticsEvent } from '../../../pipeline/frame.ts';
import type { StreamStats } from '../../../pipeline/metrics.ts';

export const PROTOCOL_VERSION = 1;
export const TOPICS = ['video', 'frames', 'events', 'counts', 'stats', 'density'] as const;
export type Topic = (typeof TOPICS)[number];
export const ALL_STREAMS = '*';

const names = z.array(z.string().min(1).max(200)).max(1000);
const subscription = z.strictObject({
  type: z.enum(['subscribe', 'unsubscribe']),
  streams: names.optional(),
  topics: z.array(z.string()).min(1).max(TOPICS.length * 2),
});
const ping = z.strictObject({ type: z.literal('ping'), id: z.union([z.string().max(200), z.number()]).optional() });

export type ClientMessage = z.infer<typeof subscription> | z.infer<typeof ping>;

export type ErrorCode = 'bad-json' | 'bad-message' | 'unknown-type' | 'unknown-stream' | 'unknown-topic';

export type ServerEvent =
  | {
      readonly type: 'hello';
      readonly server: 'panoptes';
      readonly protocol: number;
      readonly streams: readonly string[];
      readonly topics: readonly Topic[];
      readonly limits: { readonly maxClientMessageBytes: number; readonly maxQueuedBytes: number; readonly stuckTimeoutMs: number };
    }
  | { readonly type: 'subscribed'; readonly subscriptions: readonly { readonly stream: string; readonly topic: Topic }[] }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'ended'; readonly stream: string; readonly error?: string }
  | { readonly type: 'pong'; readonly id?: string | number }
  | {
      readonly type: 'stats';
      readonly streams: readonly StreamStats[];
      readonly client: { readonly dropped: Readonly<Partial<Record<Topic, number>>>; readonly queuedBytes: number };
    }
  | AnalyticsEvent;

/** Parses one client message, or returns the error to send back. */
export function parseClientMessage(text: string): ClientMessage | { error: ErrorCode; message: string } {
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
