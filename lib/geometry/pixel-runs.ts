/**
 * Which pixels a segment owns, as runs along rows: `[start, end, start, end, ...]`, row-major
 * pixel indices into a `width`-wide map, `end` exclusive, each run inside one row, in scan
 * order. Fusion finds every segment's runs in one pass over the segment map; every later stage
 * (tracker masks, anchors, zones, outlines) reads them instead of scanning the map again.
 */
import type { Box } from './box.ts';

/** A binary mask cropped to the integer box it covers: 1 inside, 0 outside, `width * height` bytes. */
export interface CroppedMask {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Number of non-zero bytes: the area of a mask. */
export function countNonZero(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}

/**
 * Runs as they are found, in scan order, as `(id, start, end)` triples; {@link RunList.bySegment}
 * groups them per segment. One list is kept and reused by its owner, so finding a frame's runs
 * allocates only the result.
 */
export class RunList {
  private triples = new Uint32Array(3 * 4096);
  private length = 0;

  clear(): void {
    this.length = 0;
  }

  add(id: number, start: number, end: number): void {
    if (this.length + 3 > this.triples.length) {
      const grown = new Uint32Array(this.triples.length * 2);
      grown.set(this.triples);
      this.triples = grown;
    }
    this.triples[this.length] = id;
    this.triples[this.length + 1] = start;
    this.triples[this.length + 2] = end;
    this.length += 3;
  }

  /** The runs of each id in `ids` (in that order), in scan order; runs of other ids are left out. The arrays share one buffer. */
  bySegment(ids: readonly number[]): Uint32Array[] {
    let maxId = 0;
    for (const id of ids) if (id > maxId) maxId = id;
    const slotOf = new Int32Array(maxId + 1).fill(-1);
    ids.forEach((id, slot) => (slotOf[id] = slot));
    const slotAt = (t: number) => {
      const id = this.triples[t]!;
      return id <= maxId ? slotOf[id]! : -1;
    };
    const counts = new Uint32Array(ids.length);
    for (let t = 0; t < this.length; t += 3) {
      const slot = slotAt(t);
      if (slot >= 0) counts[slot]!++;
    }
    // A counting sort: each segment's runs keep their scan order.
    const offsets = new Uint32Array(ids.length + 1);
    for (let s = 0; s < ids.length; s++) offsets[s + 1] = offsets[s]! + counts[s]! * 2;
    const all = new Uint32Array(offsets[ids.length]!);
    const next = offsets.slice(0, ids.length);
    for (let t = 0; t < this.length; t += 3) {
      const slot = slotAt(t);
      if (slot < 0) continue;
      const at = next[slot]!;
      all[at] = this.triples[t + 1]!;
      all[at + 1] = this.triples[t + 2]!;
      next[slot] = at + 2;
    }
    return ids.map((_, s) => all.subarray(offsets[s]!, offsets[s + 1]!));
  }
}

const scanned = new RunList();

/**
 * The runs of every id in `ids` (in that order) in `map`, from one pass over the map. Pixels of
 * other ids (0, void, included) are skipped. Fusion finds them during its own pass instead; this
 * is for maps made elsewhere.
 */
export function segmentRuns(map: Uint32Array, width: number, ids: readonly number[]): Uint32Array[] {
  scanned.clear();
  for (let rowStart = 0; rowStart < map.length; rowStart += width) {
    const rowEnd = rowStart + width;
    let p = rowStart;
    while (p < rowEnd) {
      const id = map[p]!;
      const start = p;
      p++;
      while (p < rowEnd && map[p] === id) p++;
      if (id !== 0) scanned.add(id, start, p);
    }
  }
  return scanned.bySegment(ids);
}

/** Pixels the runs cover. */
export function runsArea(runs: Uint32Array): number {
  let n = 0;
  for (let r = 0; r < runs.length; r += 2) n += runs[r + 1]! - runs[r]!;
  return n;
}

/** The centre of the pixels the runs cover (pixel centres at +0.5), or undefined when empty. */
export function runsCentroid(runs: Uint32Array, width: number): readonly [number, number] | undefined {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!;
    const length = runs[r + 1]! - start;
    const y = Math.floor(start / width);
    const x0 = start - y * width;
    n += length;
    // Sum of x over x0..x0+length-1, in closed form.
    sx += length * x0 + (length * (length - 1)) / 2;
    sy += length * y;
  }
  return n ? [sx / n + 0.5, sy / n + 0.5] : undefined;
}

/** The runs as a mask cropped to `box` (integer pixel corners, far edges exclusive). */
export function runsMask(runs: Uint32Array, width: number, box: Box): CroppedMask {
  const x = Math.floor(box[0]);
  const y = Math.floor(box[1]);
  const maskWidth = Math.max(0, Math.ceil(box[2]) - x);
  const maskHeight = Math.max(0, Math.ceil(box[3]) - y);
  const data = new Uint8Array(maskWidth * maskHeight);
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!;
    const row = Math.floor(start / width);
    const my = row - y;
    if (my < 0 || my >= maskHeight) continue;
    const from = Math.max(start - row * width - x, 0);
    const to = Math.min(runs[r + 1]! - row * width - x, maskWidth);
    if (to > from) data.fill(1, my * maskWidth + from, my * maskWidth + to);
  }
  return { x, y, width: maskWidth, height: maskHeight, data };
}

/**
 * Pixels of the runs inside a `width`-wide raster that is non-zero where a region is (a zone's
 * polygon, say): how much of an object lies in it.
 */
export function runsInside(runs: Uint32Array, region: Uint8Array): number {
  let n = 0;
  for (let r = 0; r < runs.length; r += 2) {
    for (let p = runs[r]!, end = runs[r + 1]!; p < end; p++) if (region[p] !== 0) n++;
  }
  return n;
}
