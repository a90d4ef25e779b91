/**
 * The semantic confusion matrix, accumulated over every image of an evaluation.
 *
 * Rows are ground-truth classes 0..n-1, columns predicted classes 0..n-1 plus one extra column,
 * `n`, for predictions that are no class at all (a value ≥ n, or the ignore label, e.g. 255 for
 * "void"): such a pixel is a miss for its ground-truth class and a false positive for none.
 * Ground-truth pixels with the ignore label are left out entirely, whatever was predicted there.
 */
export class ConfusionMatrix {
  /** `classes` rows × `classes + 1` columns, row-major. */
  readonly counts: Float64Array;
  readonly columns: number;
  /** Ground-truth pixels skipped because they carry the ignore label. */
  ignoredPixels = 0;

  constructor(
    readonly classes: number,
    readonly ignoreLabel: number | undefined,
  ) {
    this.columns = classes + 1;
    this.counts = new Float64Array(classes * this.columns);
  }

  at(gt: number, pred: number): number {
    return this.counts[gt * this.columns + pred];
  }

  /**
   * Adds one image. Throws when the ground truth holds a value that is neither a class nor the
   * ignore label, with how many pixels and the fix; `where` names the files in that message.
   */
  add(gt: Uint8Array | Uint16Array, pred: Uint8Array | Uint16Array, where: string): void {
    const n = this.classes;
    const columns = this.columns;
    const counts = this.counts;
    // -1 never matches a pixel value, so "no ignore label" needs no extra test in the loop.
    const ignore = this.ignoreLabel ?? -1;
    let ignored = 0;
    let invalid = 0;
    let invalidValue = 0;
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i];
      if (g === ignore) {
        ignored++;
        continue;
      }
      if (g >= n) {
        invalid++;
        invalidValue = g;
        continue;
      }
      const p = pred[i];
      counts[g * columns + (p < n && p !== ignore ? p : n)]++;
    }
    this.ignoredPixels += ignored;
    if (invalid > 0) {
      throw new Error(
        `${where}: ${invalid} ground-truth pixels have a value ≥ --classes ${n} (e.g. ${invalidValue}); ` +
          (this.ignoreLabel === undefined
            ? `if ${invalidValue} marks unlabeled pixels, pass --ignore ${invalidValue}; otherwise raise --classes`
            : `raise --classes, or check that this is a class-index map`),
      );
    }
  }
}
