import type { AnalyticsEvent, LineEvent, ZoneEvent } from '../../pipeline/frame.ts';

/** An event as the line counters and zone monitors find it, before it is named. */
export type UnnamedEvent = Omit<LineEvent, 'id'> | Omit<ZoneEvent, 'id'>;

/**
 * Names a frame's events (`AnalyticsEvent.id`): `<capture time>-<line|zone>-<track id>`, with `:`
 * written `-` so that the id is a valid file name and MQTT topic level everywhere. A track with
 * several events in one frame (two lines, a zone's exit and another's entry) gets `-2`, `-3`, ...
 * after the first, in the order the events were found.
 */
export function nameEvents(events: readonly UnnamedEvent[], capturedAtMs: number): AnalyticsEvent[] {
  if (events.length === 0) return [];
  const time = new Date(capturedAtMs).toISOString().replace(/:/g, '-');
  const taken = new Map<string, number>();
  return events.map((event) => {
    const base = `${time}-${event.type}-${event.trackId}`;
    const seen = (taken.get(base) ?? 0) + 1;
    taken.set(base, seen);
    return { ...event, id: seen === 1 ? base : `${base}-${seen}` };
  });
}
