/**
 * How COCO panoptic PNGs store segment ids: each pixel's RGB is `id = R + 256·G + 256²·B`, and
 * id 0 is void (panopticapi's `rgb2id` / `id2rgb`). The sinks that write such PNGs and the
 * evaluation that reads them both go through here, so the two ends cannot disagree.
 */

/** The largest id an RGB pixel can hold. */
export const MAX_PANOPTIC_ID = 256 ** 3 - 1;

/** The id stored in one pixel's red, green and blue samples. */
export function panopticIdOf(red: number, green: number, blue: number): number {
  return red | (green << 8) | (blue << 16);
}

/** True where a Uint32Array stores its lowest byte first (every platform Node runs on but s390x). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The 32-bit word whose bytes in memory are R, G, B, 255 for `id`: writers fill an RGBA image
 * with one store per pixel instead of three.
 */
export function panopticRgbaWord(id: number): number {
  const r = id & 0xff;
  const g = (id >> 8) & 0xff;
  const b = (id >> 16) & 0xff;
  return (LITTLE_ENDIAN ? (0xff << 24) | (b << 16) | (g << 8) | r : (r << 24) | (g << 16) | (b << 8) | 0xff) >>> 0;
}

/** Writes the RGB encoding of `ids` into `rgb` (`3 * ids.length` bytes). Ids must be ≤ {@link MAX_PANOPTIC_ID}. */
export function idsToRgb(ids: ArrayLike<number>, rgb: Uint8Array): void {
  for (let p = 0, i = 0; p < ids.length; p++, i += 3) {
    const id = ids[p]!;
    rgb[i] = id & 0xff;
    rgb[i + 1] = (id >> 8) & 0xff;
    rgb[i + 2] = (id >> 16) & 0xff;
  }
}
