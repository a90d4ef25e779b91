/**
 * Where Panoptes publishes on NATS: `panoptes.<stream>.<kind>`, one subject per stream and kind
 * of result, so a subscriber picks a stream (`panoptes.cam1.>`) or a kind (`panoptes.*.events`).
 */
import type { NatsConnection } from '@nats-io/transport-node';

export const SUBJECT_ROOT = 'panoptes';

/**
 * - `frames`: one record per processed frame (an `--events` frame line, plus `worker`); may drop.
 * - `events`: line and zone events, through JetStream (durable, acknowledged).
 * - `counts`: per-frame counts and totals (the viewer's `counts` message, plus `worker`).
 * - `stats`: once a second, the stream's pipeline figures (the viewer's `stats` entry, plus `worker`).
 * - `video`: the viewer's binary `video` message (overlay JPEG), for `panoptes dashboard --cluster`.
 * - `snapshots`: the viewer's binary `snapshot` message (each event's JPEG), for the same; may drop.
 */
export type SubjectKind = 'frames' | 'events' | 'counts' | 'stats' | 'video' | 'snapshots';

/** The JetStream stream that keeps every stream's events. */
export const EVENTS_STREAM = 'PANOPTES_EVENTS';
/** How long the events are kept for a subscriber that was away. */
const EVENTS_MAX_AGE_NS = 7 * 24 * 3600 * 1e9;

export function streamSubject(stream: string, kind: SubjectKind): string {
  return `${SUBJECT_ROOT}.${stream}.${kind}`;
}

/** NATS subject tokens cannot hold dots, wildcards or white space; a stream id becomes one. */
export function subjectTokenProblem(stream: string): string | undefined {
  if (/[.*>\s]/.test(stream) || stream.length === 0) {
    return `stream id "${stream}" cannot be a NATS subject token (no dots, *, > or spaces); rename the source, e.g. "${stream.replace(/[.*>\s]+/g, '-')}"`;
  }
  return undefined;
}

/** Creates the events stream if it is not there (every worker calls it; the first one creates it). */
export async function ensureEventsStream(nc: NatsConnection): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const jsm = await jetstreamManager(nc);
  const subjects = [`${SUBJECT_ROOT}.*.events`];
  try {
    await jsm.streams.info(EVENTS_STREAM);
  } catch {
    try {
      await jsm.streams.add({ name: EVENTS_STREAM, subjects, max_age: EVENTS_MAX_AGE_NS });
    } catch (error) {
      // Another worker created it in between: fine. Anything else (no JetStream) is not.
      await jsm.streams.info(EVENTS_STREAM).catch(() => {
        throw new Error(`nats: cannot create the ${EVENTS_STREAM} JetStream stream: ${(error as Error).message} (start nats-server with -js)`);
      });
    }
  }
}
