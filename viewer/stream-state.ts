/**
 * What the page knows of each stream: its newest picture, figures, counts (with their recent
 * history, for the chart), events and density map, and the updates the server's messages make
 * to them. Drawing is elsewhere (tiles.ts, focus.ts, panel.ts, chart.ts).
 */
import type { AnalyticsEvent, ClassCounts, CountsMessage, DensityBand, DensityHeader, StreamStatsEntry, VideoHeader } from '../servers/viewer-protocol/protocol.ts';
import { finite } from './format.ts';

/** How far back the counts are kept, for the chart. */
export const HISTORY_MS = 120_000;
/** Counts of one stream are kept at most once per bucket (the newest wins) for the chart. */
const HISTORY_BUCKET_MS = 250;
const MAX_EVENTS = 40;

/** The counts of one moment, for the chart. */
export interface HistoryPoint {
  readonly t: number;
  counts: ClassCounts;
  density: DensityBand | undefined;
}

/** An event as the panel lists it: a key of its own, and its snapshot once one comes. */
export type ShownEvent = AnalyticsEvent & {
  readonly key: number;
  readonly receivedAt: number;
  /** An object URL of its snapshot JPEG. */
  thumb: string | null;
};

export interface StreamView {
  readonly name: string;
  readonly tile: HTMLElement;
  /** The tile's picture. */
  readonly canvas: HTMLCanvasElement;
  /** The newest frame not decoded yet: a newer one replaces it. */
  pending: { readonly header: VideoHeader; readonly jpeg: Uint8Array<ArrayBuffer> } | null;
  decoding: boolean;
  /** The picture on screen, and its header. */
  bitmap: ImageBitmap | null;
  header: VideoHeader | null;
  /** How old the picture on screen was when it was drawn. */
  ageMs: number;
  lastFrameAt: number;
  stats: StreamStatsEntry | null;
  counts: CountsMessage | null;
  history: HistoryPoint[];
  /** Newest first. */
  events: ShownEvent[];
  /** The newest density map: its header and the grid coloured once, at its own size. */
  densityMap: { readonly header: DensityHeader; readonly image: HTMLCanvasElement } | null;
  /** undefined: running; '': ended; text: failed with that error. */
  ended: string | undefined;
}

/** name -> per-stream state, in the order the streams became known. */
export const streams = new Map<string, StreamView>();

let eventKeys = 0;

/** The density count and band of a counts message (or of one of its zones), when it has sensible ones. */
export function densityOf<D extends DensityBand>(holder: { readonly density?: D }): D | undefined {
  const d = holder.density;
  return d && finite(d.count) && finite(d.low) && finite(d.high) ? d : undefined;
}

/** Keeps a counts message, and its counts in the history (one point per bucket, two minutes). */
export function recordCounts(stream: StreamView, message: CountsMessage, now: number): void {
  stream.counts = message;
  const last = stream.history[stream.history.length - 1];
  const density = densityOf(message);
  if (last && now - last.t < HISTORY_BUCKET_MS) {
    last.counts = message.counts ?? {};
    last.density = density;
  } else stream.history.push({ t: now, counts: message.counts ?? {}, density });
  while (stream.history.length && stream.history[0].t < now - HISTORY_MS) stream.history.shift();
}

/** Adds an event to the top of the list; the thumbnails of events that leave the list are let go. */
export function recordEvent(stream: StreamView, event: AnalyticsEvent, now: number): void {
  stream.events.unshift({ ...event, key: ++eventKeys, receivedAt: now, thumb: null });
  for (const gone of stream.events.splice(MAX_EVENTS)) if (gone.thumb) URL.revokeObjectURL(gone.thumb);
}

/** Gives the event `id` its snapshot; false when the event is not listed, or has one already. */
export function recordSnapshot(stream: StreamView, id: string, jpeg: Uint8Array<ArrayBuffer>): boolean {
  const event = stream.events.find((e) => e.id === id);
  if (!event || event.thumb) return false;
  event.thumb = URL.createObjectURL(new Blob([jpeg], { type: 'image/jpeg' }));
  return true;
}

/** The classes in the stream's history. */
export function historyClasses(stream: StreamView): Set<string> {
  const classes = new Set<string>();
  for (const point of stream.history) for (const name of Object.keys(point.counts)) classes.add(name);
  return classes;
}
