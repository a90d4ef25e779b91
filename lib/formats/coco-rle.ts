/**
 * COCO's run-length encoded masks (the COCO mask API, `maskApi.c`), written from its description.
 *
 * A mask of `height x width` pixels is read in column-major order (down the first column, then
 * the next): `counts` alternates runs of 0s and 1s, starting with 0s (a mask that starts with a
 * 1 has a first count of 0). Files carry it two ways:
 * - uncompressed: `{"size": [h, w], "counts": [n0, n1, ...]}` (crowd regions in COCO ground truth);
 * - compressed: `{"size": [h, w], "counts": "<string>"}`, each count (from the fourth on, minus the
 *   count two before it) written as a signed number in 5-bit groups, least significant first, one
 *   character per group (`48 + group`, `+32` when more groups follow; bit 16 of the last group
 *   is the sign), as LEB128 does with bytes.
 *
 * Everything here reproduces the mask API bit for bit (its polygon rasterization, box of a mask
 * and IoU included) because average precision must come out as pycocotools' does.
 */
import { runsMask } from '../geometry/pixel-runs.ts';
import type { Box, XywhBox } from '../geometry/box.ts';

/** A run-length encoded mask, counts in column-major order starting with a run of 0s. */
export interface CocoRle {
  readonly height: number;
  readonly width: number;
  readonly counts: Uint32Array;
}

/** As a COCO JSON file writes a compressed RLE. */
export interface CocoRleJson {
  readonly size: readonly [height: number, width: number];
  readonly counts: string;
}

const TWO_32 = 2 ** 32;
/** C's `(uint)` of a value that may have wrapped. */
const asUint = (x: number): number => ((x % TWO_32) + TWO_32) % TWO_32;

/** The compressed string of an RLE, as the mask API's `rleToString` writes it. */
export function encodeRleCounts(counts: ArrayLike<number>): string {
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    for (;;) {
      // Low 5 bits of the two's complement value, then an arithmetic shift right by 5.
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      const more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
      if (!more) break;
    }
  }
  // In slices: a spread of a very long array overflows the call stack.
  let text = '';
  for (let i = 0; i < chars.length; i += 8192) text += String.fromCharCode(...chars.slice(i, i + 8192));
  return text;
}

/**
 * The counts of a compressed RLE string (the mask API's `rleFrString`). Throws on a character
 * outside `0`..`o` or a string that ends inside a number; `what` names it in the message.
 */
export function decodeRleCounts(text: string, what = 'RLE counts'): Uint32Array {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    for (;;) {
      if (p >= text.length) throw new Error(`${what}: the string ends inside a number; it is not a COCO compressed RLE`);
      const code = text.charCodeAt(p);
      if (code < 48 || code > 111) {
        throw new Error(`${what}: character "${text[p]}" at ${p} is not one of a compressed RLE (ASCII 48 to 111)`);
      }
      const c = code - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      p++;
      k++;
      if (!(c & 0x20)) {
        if (c & 0x10) x -= 2 ** (5 * k); // sign-extend
        break;
      }
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2]!;
    counts.push(asUint(x));
  }
  return Uint32Array.from(counts);
}

/** Checks that counts cover exactly `height * width` pixels. */
export function checkedRle(height: number, width: number, counts: Uint32Array, what: string): CocoRle {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total !== height * width) {
    throw new Error(`${what}: the counts cover ${total} pixels but the size ${height}x${width} has ${height * width}`);
  }
  return { height, width, counts };
}

/** The JSON of a compressed RLE. */
export function rleToJson(rle: CocoRle): CocoRleJson {
  return { size: [rle.height, rle.width], counts: encodeRleCounts(rle.counts) };
}

/** Pixels set (the mask API's `rleArea`). */
export function rleArea(rle: CocoRle): number {
  let area = 0;
  for (let j = 1; j < rle.counts.length; j += 2) area += rle.counts[j]!;
  return area;
}

/** A column-major 0/1 mask as an RLE (the mask API's `rleEncode`). */
export function rleFromColumnMajor(mask: Uint8Array, height: number, width: number): CocoRle {
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let j = 0; j < height * width; j++) {
    if (mask[j] !== previous) {
      counts.push(run);
      run = 0;
      previous = mask[j]!;
    }
    run++;
  }
  counts.push(run);
  return { height, width, counts: Uint32Array.from(counts) };
}

/** The RLE as a column-major 0/1 mask (the mask API's `rleDecode`). */
export function rleToColumnMajor(rle: CocoRle): Uint8Array {
  const mask = new Uint8Array(rle.height * rle.width);
  let at = 0;
  for (let j = 0; j < rle.counts.length; j++) {
    const n = rle.counts[j]!;
    if (j % 2 === 1) mask.fill(1, at, at + n);
    at += n;
  }
  return mask;
}

/**
 * The pixels of row runs (lib/geometry/pixel-runs.ts: row-major `[start, end, ...]` in a
 * `width`-wide frame) as an RLE of the `height x width` frame, identical to `rleEncode` of the
 * same mask. Only the runs' bounding `box` is scanned, so a small object in a large frame costs
 * its own size.
 */
export function rleFromRuns(runs: Uint32Array, width: number, height: number, box: Box): CocoRle {
  const crop = runsMask(runs, width, box);
  const counts: number[] = [];
  let written = 0; // pixels already described by counts
  let runStart = -1;
  let runEnd = -1;
  for (let cx = 0; cx < crop.width; cx++) {
    const column = (crop.x + cx) * height + crop.y;
    for (let cy = 0; cy < crop.height; cy++) {
      if (crop.data[cy * crop.width + cx] === 0) continue;
      const at = column + cy;
      if (at === runEnd) {
        runEnd++;
        continue;
      }
      if (runStart >= 0) {
        counts.push(runStart - written, runEnd - runStart);
        written = runEnd;
      }
      runStart = at;
      runEnd = at + 1;
    }
  }
  if (runStart >= 0) {
    counts.push(runStart - written, runEnd - runStart);
    written = runEnd;
  }
  // rleEncode ends with the last run, so a mask that ends set has no trailing run of 0s.
  if (written < width * height || counts.length === 0) counts.push(width * height - written);
  return { height, width, counts: Uint32Array.from(counts) };
}

/**
 * The box of an RLE's pixels as the mask API's `rleToBbox` computes it: `[x, y, w, h]` in whole
 * pixels; a run that wraps from one column into the next widens the box to the full height.
 */
export function rleBbox(rle: CocoRle): XywhBox {
  const h = rle.height;
  const m = Math.floor(rle.counts.length / 2) * 2;
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = rle.width;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let xp = 0;
  let cc = 0;
  for (let j = 0; j < m; j++) {
    cc = asUint(cc + rle.counts[j]!);
    const t = asUint(cc - (j % 2));
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** The union of RLEs of one size (the mask API's `rleMerge` without `intersect`). */
export function rleUnion(rles: readonly CocoRle[]): CocoRle {
  if (rles.length === 0) return { height: 0, width: 0, counts: new Uint32Array(0) };
  const { height, width } = rles[0]!;
  let merged = rles[0]!.counts;
  for (let i = 1; i < rles.length; i++) {
    const b = rles[i]!;
    if (b.height !== height || b.width !== width) {
      throw new Error(`cannot merge masks of different sizes (${height}x${width} and ${b.height}x${b.width})`);
    }
    const A = merged;
    const B = b.counts;
    const out: number[] = [];
    let ca = A[0] ?? 0;
    let cb = B[0] ?? 0;
    let v = false;
    let va = false;
    let vb = false;
    let a = 1;
    let bi = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++]!;
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && bi < B.length) {
        cb = B[bi++]!;
        vb = !vb;
      }
      ct += cb;
      const vp: boolean = v;
      v = va || vb;
      if (v !== vp || ct === 0) {
        out.push(cc);
        cc = 0;
      }
    }
    merged = Uint32Array.from(out);
  }
  return { height, width, counts: merged };
}

/** Intersection and union of two RLEs of one size, in pixels, walking both run lists once. */
export function rleOverlap(a: CocoRle, b: CocoRle): { intersection: number; union: number } {
  const A = a.counts;
  const B = b.counts;
  let ca = A[0] ?? 0;
  let cb = B[0] ?? 0;
  let va = false;
  let vb = false;
  let ia = 1;
  let ib = 1;
  let intersection = 0;
  let union = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    if (va || vb) {
      union += c;
      if (va && vb) intersection += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && ia < A.length) {
      ca = A[ia++]!;
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < B.length) {
      cb = B[ib++]!;
      vb = !vb;
    }
    ct += cb;
  }
  return { intersection, union };
}

/**
 * The polygon `[x0, y0, x1, y1, ...]` rasterized as the mask API's `rleFrPoly` does: the outline
 * traced at 5x resolution, then a pixel is inside when its centre is. Reproduced operation by
 * operation (C's truncating int casts included) so that areas and IoUs match pycocotools.
 */
export function rleFromPolygon(xy: ArrayLike<number>, height: number, width: number): CocoRle {
  const scale = 5;
  const k = Math.floor(xy.length / 2);
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * xy[j * 2]! + 0.5);
  x[k] = x[0]!;
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * xy[j * 2 + 1]! + 0.5);
  y[k] = y[0]!;
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j]! - x[j + 1]!), Math.abs(y[j]! - y[j + 1]!)) + 1;
  const u = new Int32Array(m);
  const v = new Int32Array(m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j]!;
    let xe = x[j + 1]!;
    let ys = y[j]!;
    let ye = y[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // Points where the outline crosses a pixel column's centre, downsampled to pixels.
  const points: number[] = [];
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = v[j]! < v[j - 1]! ? v[j]! : v[j - 1]!;
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    yd = Math.ceil(yd);
    points.push(asUint(Math.trunc(xd) * height + Math.trunc(yd)));
  }
  points.push(asUint(height * width));
  const a = Float64Array.from(points).sort();
  let previous = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]!;
    a[j] = t - previous;
    previous = t;
  }
  // Successive crossings of one pixel cancel out: a zero-length run joins its neighbours.
  const counts: number[] = [a[0]!];
  for (let j = 1; j < a.length; ) {
    if (a[j]! > 0) counts.push(a[j++]!);
    else {
      j++;
      if (j < a.length) counts[counts.length - 1] += a[j++]!;
    }
  }
  return { height, width, counts: Uint32Array.from(counts) };
}

/** A box `[x, y, w, h]` rasterized as the mask API's `rleFrBbox` does (as a 4-point polygon). */
export function rleFromXywh(box: XywhBox, height: number, width: number): CocoRle {
  const [xs, ys, w, h] = box;
  const xe = xs + w;
  const ye = ys + h;
  return rleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], height, width);
}
