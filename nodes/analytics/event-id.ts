import type { AnalyticsEvent, LineEvent, ZoneEvent } from '../../pipeline/analytics-types.ts';

/** An event as the line counters and zone monitors find it, before it is named. */
export type UnnamedEvent = Omit<LineEvent, 'id'> | Omit<ZoneEvent, 'id'>;

/**
 * Names a frame's events (`AnalyticsEvent.id`): `<capture time>-f<frame seq>-<line|zone>-<track id>`,
 * with `:` written `-` so that the id is a valid file name and MQTT topic level everywhere. The
 * time sorts ids and keeps runs apart; the frame number keeps apart frames decoded within one
 * millisecond (a clip read as fast as it decodes). A track with several events in one frame (two
 * lines, a zone's exit and another's entry) gets `-2`, `-3`, ... after the first, in the order
 * the events were found. Unique within a stream; streams keep their own folders and topics.
 */
export function nameEvents(events: readonly UnnamedEvent[], capturedAtMs: number, seq: number): AnalyticsEvent[] {
  if (events.length === 0) return [];
  const time = new Date(capturedAtMs).toISOString().replace(/:/g, '-');
  const taken = new Map<string, number>();
  return events.map((event) => {
    const base = `${time}-f${seq}-${event.type}-${event.trackId}`;
    const seen = (taken.get(base) ?? 0) + 1;
    taken.set(base, seen);
    return { ...event, id: seen === 1 ? base : `${base}-${seen}` };
  });
}
