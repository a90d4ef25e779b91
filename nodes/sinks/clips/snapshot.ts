import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Box } from '../../../lib/geometry/box.ts';

/** The margin around the object's box, as a share of its longer side (and at least `MIN_MARGIN_PX`). */
const MARGIN_SHARE = 0.5;
const MIN_MARGIN_PX = 24;
const BOX_COLOUR = '#ffd400';

/**
 * Writes the event's picture: the overlay frame (the JPEG every viewer got) cropped around the
 * object's box with a margin, the box drawn on it, as a JPEG. `box` is in frame pixels
 * (`frameWidth` x `frameHeight`); the overlay may be rendered at another size. Without a box (the
 * track is gone) the whole overlay frame is written.
 */
export async function writeSnapshot(
  file: string,
  overlay: { readonly jpeg: Buffer; readonly width: number; readonly height: number },
  frameWidth: number,
  frameHeight: number,
  box: Box | undefined,
): Promise<void> {
  if (!box) {
    await writeFile(file, overlay.jpeg);
    return;
  }
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
  const jpeg = await sharp(overlay.jpeg)
    .extract({ left, top, width, height })
    .composite([{ input: Buffer.from(rect), left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
  await writeFile(file, jpeg);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
