/**
 * The one pass over the pixels that panoptic metrics need: how many pixels each
 * (ground-truth segment id, predicted segment id) pair shares. Everything else (areas, IoUs,
 * void and crowd overlaps, semantic confusion, tube statistics) follows from these few pairs.
 *
 * How it stays fast on 1024x512 frames: ids are first replaced by dense indices (a Map lookup
 * only when the id changes from the previous pixel, so about once per segment boundary, with
 * small-integer keys that V8 does not box), then pairs are counted in a dense G×P table. Only
 * when G×P is huge (noise-like maps) does it fall back to sorting one numeric key per pixel.
 */

/** Pairs that occur, in no particular order; `counts[i]` pixels have ids `gtIds[i]`, `predIds[i]`. */
export interface PairCounts {
  readonly length: number;
  readonly gtIds: ArrayLike<number>;
  readonly predIds: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
}

/** Above this many table cells (G×P), count by sorting instead. */
const DENSE_TABLE_LIMIT = 1 << 22;

/** Counts pairs; keeps its per-pixel scratch buffers between calls (one instance per worker). */
export class PairCounter {
  private gtIndex = new Int32Array(0);
  private predIndex = new Int32Array(0);

  count(gt: Uint32Array, pred: Uint32Array): PairCounts {
    const pixels = gt.length;
    if (pred.length !== pixels) throw new Error(`pair counting needs maps of one size, got ${pixels} and ${pred.length} pixels`);
    if (this.gtIndex.length < pixels) {
      this.gtIndex = new Int32Array(pixels);
      this.predIndex = new Int32Array(pixels);
    }
    const gtIndex = this.gtIndex;
    const predIndex = this.predIndex;
    const gtList = denseIndices(gt, gtIndex);
    const predList = denseIndices(pred, predIndex);
    const g = gtList.length;
    const p = predList.length;
    return g * p <= DENSE_TABLE_LIMIT
      ? countWithTable(gtIndex, predIndex, pixels, gtList, predList)
      : countBySorting(gtIndex, predIndex, pixels, gtList, predList);
  }
}

/** Writes each pixel's dense index into `out` and returns the distinct ids, by index. */
function denseIndices(ids: Uint32Array, out: Int32Array): number[] {
  const indexOf = new Map<number, number>();
  const list: number[] = [];
  let lastId = -1;
  let lastIndex = -1;
  for (let i = 0; i < ids.length; i++) {
    // Ids are below 2^24: `| 0` lets V8 keep them as small integers, never boxed doubles.
    const id = ids[i] | 0;
    if (id !== lastId) {
      let index = indexOf.get(id);
      if (index === undefined) {
        index = list.length;
        indexOf.set(id, index);
        list.push(id);
      }
      lastId = id;
      lastIndex = index;
    }
    out[i] = lastIndex;
  }
  return list;
}

function countWithTable(gtIndex: Int32Array, predIndex: Int32Array, pixels: number, gtList: number[], predList: number[]): PairCounts {
  const p = predList.length;
  const table = new Uint32Array(gtList.length * p);
  for (let i = 0; i < pixels; i++) table[gtIndex[i] * p + predIndex[i]]++;
  let length = 0;
  for (let cell = 0; cell < table.length; cell++) if (table[cell] !== 0) length++;
  const out = { length, gtIds: new Uint32Array(length), predIds: new Uint32Array(length), counts: new Float64Array(length) };
  for (let cell = 0, k = 0; cell < table.length; cell++) {
    if (table[cell] === 0) continue;
    out.gtIds[k] = gtList[Math.floor(cell / p)];
    out.predIds[k] = predList[cell % p];
    out.counts[k] = table[cell];
    k++;
  }
  return out;
}

function countBySorting(gtIndex: Int32Array, predIndex: Int32Array, pixels: number, gtList: number[], predList: number[]): PairCounts {
  const p = predList.length;
  // G and P are each at most the pixel count, so the key stays well below 2^53.
  const keys = new Float64Array(pixels);
  for (let i = 0; i < pixels; i++) keys[i] = gtIndex[i] * p + predIndex[i];
  keys.sort();
  const gtIds: number[] = [];
  const predIds: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < pixels; ) {
    const key = keys[i];
    let j = i + 1;
    while (j < pixels && keys[j] === key) j++;
    gtIds.push(gtList[Math.floor(key / p)]);
    predIds.push(predList[key % p]);
    counts.push(j - i);
    i = j;
  }
  return { length: counts.length, gtIds: Uint32Array.from(gtIds), predIds: Uint32Array.from(predIds), counts: Float64Array.from(counts) };
}

/**
 * Sums several frames' pairs into one list, for metrics over a window of frames where a
 * segment id names the same object (a tube) in every frame.
 */
export function mergePairCounts(lists: readonly PairCounts[]): PairCounts {
  if (lists.length === 1) return lists[0];
  // Ids are below 2^24, so gt·2^24 + pred is exact as a double.
  const sums = new Map<number, number>();
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const key = list.gtIds[i] * 2 ** 24 + list.predIds[i];
      sums.set(key, (sums.get(key) ?? 0) + list.counts[i]);
    }
  }
  const out = { length: sums.size, gtIds: new Uint32Array(sums.size), predIds: new Uint32Array(sums.size), counts: new Float64Array(sums.size) };
  let k = 0;
  for (const [key, count] of sums) {
    out.gtIds[k] = Math.floor(key / 2 ** 24);
    out.predIds[k] = key % 2 ** 24;
    out.counts[k] = count;
    k++;
  }
  return out;
}
