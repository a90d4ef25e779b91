/**
 * Binary erosion and dilation with a square of side `2 * radius + 1`, separable (a row pass then
 * a column pass), on 0/1 bytes. Opening (erode, dilate) removes specks smaller than the square;
 * closing (dilate, erode) fills holes and joins the pieces of one object (a car's windscreen
 * that matches the road is still the car).
 */
export class Morphology {
  private readonly scratch: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.scratch = new Uint8Array(width * height);
  }

  /** Opening then closing of `mask`, in place. */
  clean(mask: Uint8Array, openRadius: number, closeRadius: number): void {
    if (openRadius > 0) {
      this.filter(mask, openRadius, 0);
      this.filter(mask, openRadius, 1);
    }
    if (closeRadius > 0) {
      this.filter(mask, closeRadius, 1);
      this.filter(mask, closeRadius, 0);
    }
  }

  /**
   * Dilation (`keep` 1: a pixel is 1 when any in its square is) or erosion (`keep` 0: it is 0
   * when any is), in place. Outside the image is background for both, so that opening and
   * closing stay exact opposites: an object cut by the border comes back whole from an opening
   * (the dilation restores what the erosion took), and a closing does not glue it to the border.
   */
  filter(mask: Uint8Array, radius: number, keep: 0 | 1): void {
    const { width: w, height: h, scratch } = this;
    const other = keep === 1 ? 0 : 1;
    // Rows: the distance to the nearest `keep` pixel, left to right then right to left.
    for (let y = 0; y < h; y++) {
      const row = y * w;
      // Erosion sees the background just outside the image; dilation has nothing to spread from there.
      let last = keep === 0 ? -1 : -Infinity;
      for (let x = 0; x < w; x++) {
        if (mask[row + x] === keep) last = x;
        scratch[row + x] = x - last <= radius ? keep : other;
      }
      last = keep === 0 ? w : Infinity;
      for (let x = w - 1; x >= 0; x--) {
        if (mask[row + x] === keep) last = x;
        if (last - x <= radius) scratch[row + x] = keep;
      }
    }
    // Columns, from the row pass into the mask.
    for (let x = 0; x < w; x++) {
      let last = keep === 0 ? -1 : -Infinity;
      for (let y = 0; y < h; y++) {
        if (scratch[y * w + x] === keep) last = y;
        mask[y * w + x] = y - last <= radius ? keep : other;
      }
      last = keep === 0 ? h : Infinity;
      for (let y = h - 1; y >= 0; y--) {
        if (scratch[y * w + x] === keep) last = y;
        if (last - y <= radius) mask[y * w + x] = keep;
      }
    }
  }
}
