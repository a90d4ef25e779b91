/**
 * How many streams each worker should run: the streams spread evenly over the live workers, no
 * worker past its capacity, what a small worker cannot take going to the bigger ones (water
 * filling). Every worker computes the same table from the same presence list, so they agree
 * without talking to each other.
 */

export interface WorkerCapacity {
  readonly worker: string;
  /** Most streams this worker runs; Infinity when it has no limit. */
  readonly capacity: number;
}

/** Streams per worker, for `streams` streams over `workers`. */
export function fairShares(streams: number, workers: readonly WorkerCapacity[]): Map<string, number> {
  // Smallest capacity first: what they cannot take is spread over the rest. Ties by name, so
  // every worker sorts alike.
  const sorted = [...workers].sort((a, b) => a.capacity - b.capacity || (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0));
  const shares = new Map<string, number>();
  let remaining = streams;
  sorted.forEach((w, i) => {
    const share = Math.min(w.capacity, Math.ceil(remaining / (sorted.length - i)));
    shares.set(w.worker, share);
    remaining -= share;
  });
  return shares;
}
