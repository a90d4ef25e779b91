import sharp from 'sharp';
import type { FramePacket, RenderedOverlay } from '../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../pipeline/analytics-types.ts';

/** The margin around the object's box, as a share of its longer side (and at least `MIN_MARGIN_PX`). */
const MARGIN_SHARE = 0.5;
const MIN_MARGIN_PX = 24;
const BOX_COLOUR = '#ffd400';

/** The snapshots made of each overlay, by event id: every consumer of one event gets one encode. */
const made = new WeakMap<RenderedOverlay, Map<string, Promise<Buffer>>>();
/** Snapshots being encoded at once, in the whole process, beyond which an event gets none. */
export const MAX_SNAPSHOTS_ENCODING = 16;
let encoding = 0;

/**
 * The event's picture, as surveillance systems show it (Frigate's snapshot): the overlay frame
 * (the JPEG every viewer got) cropped around the object's box with a margin, the box drawn on it,
 * as a JPEG. Without a box (the track is gone) it is the whole overlay frame. Made once per event
 * however many sinks ask (the clips sink writes it, MQTT publishes it, the viewer shows it, NATS
 * carries it to the cluster dashboard), and only when one asks. Undefined when the frame has no
 * overlay, or when `MAX_SNAPSHOTS_ENCODING` are being encoded already (a burst of events never
 * queues encodes, nor the overlays they hold, without bound): the caller counts it as an event
 * without a snapshot.
 */
export function eventSnapshot(packet: FramePacket, event: AnalyticsEvent): Promise<Buffer> | undefined {
  const overlay = packet.overlay;
  if (!overlay) return undefined;
  let byEvent = made.get(overlay);
  if (!byEvent) made.set(overlay, (byEvent = new Map()));
  let snapshot = byEvent.get(event.id);
  if (!snapshot) {
    if (encoding >= MAX_SNAPSHOTS_ENCODING) return undefined;
    encoding++;
    const box = packet.tracks?.find((t) => t.trackId === event.trackId)?.bbox;
    snapshot = cropAround(overlay, packet.frame.width, packet.frame.height, box).finally(() => encoding--);
    byEvent.set(event.id, snapshot);
  }
  return snapshot;
}

/** `box` is in frame pixels (`frameWidth` x `frameHeight`); the overlay may be rendered at another size. */
async function cropAround(
  overlay: RenderedOverlay,
  frameWidth: number,
  frameHeight: number,
  box: readonly [number, number, number, number] | undefined,
): Promise<Buffer> {
  if (!box) return overlay.jpeg;
  const sx = overlay.width / frameWidth;
  const sy = overlay.height / frameHeight;
  const [x1, y1, x2, y2] = [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
  const margin = Math.max(MIN_MARGIN_PX, MARGIN_SHARE * Math.max(x2 - x1, y2 - y1));
  const left = clamp(Math.floor(x1 - margin), 0, overlay.width - 1);
  const top = clamp(Math.floor(y1 - margin), 0, overlay.height - 1);
  const right = clamp(Math.ceil(x2 + margin), left + 1, overlay.width);
  const bottom = clamp(Math.ceil(y2 + margin), top + 1, overlay.height);
  const width = right - left;
  const height = bottom - top;
  const rect = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><rect x="${(x1 - left).toFixed(1)}" y="${(y1 - top).toFixed(1)}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${Math.max(1, y2 - y1).toFixed(1)}" fill="none" stroke="${BOX_COLOUR}" stroke-width="2"/></svg>`;
  // Cropped first, then the box drawn: sharp applies extract before composite.
  return sharp(overlay.jpeg)
    .extract({ left, top, width, height })
    .composite([{ input: Buffer.from(rect), left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
