/**
 * The bin where a histogram of `count` samples reaches its median, or -1 for an empty one: the
 * exposure estimates and the camera-motion misfit take medians of a frame's worth of values
 * this way, in one pass over the values and one over the bins, with no sort.
 */
export function histogramMedian(histogram: Int32Array, count: number): number {
  if (count <= 0) return -1;
  let below = 0;
  for (let bin = 0; bin < histogram.length; bin++) {
    below += histogram[bin]!;
    if (below * 2 >= count) return bin;
  }
  return histogram.length - 1;
}
