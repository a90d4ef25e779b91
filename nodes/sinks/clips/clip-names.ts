import type { AnalyticsEvent } from '../../../pipeline/frame.ts';

/**
 * The name, without extension, of an event's clip and snapshot: `<iso time>-<kind>-<track id>`,
 * the time being the wall clock at which the event's frame was captured, with `-` for `:` so the
 * name is valid on every file system (`2024-05-01T12-30-05.120Z-line-17`).
 */
export function eventFileBase(event: AnalyticsEvent, capturedAtMs: number): string {
  const iso = new Date(capturedAtMs).toISOString().replace(/:/g, '-');
  return `${iso}-${event.type}-${event.trackId}`;
}

/** A stream id as a folder name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function streamFolder(stream: string): string {
  const safe = stream.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}
