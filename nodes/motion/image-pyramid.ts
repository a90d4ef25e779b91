/**
 * A grey image and its halvings (each level the 2x2 mean of the one below), down to about 24
 * pixels on the short side: what corner tracking climbs down, so a motion of many pixels is a
 * small one at the top. Buffers are made once per size and refilled every frame.
 */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Levels stop before the short side would fall below this: too few pixels left to track. */
const SMALLEST_SIDE = 24;

export class ImagePyramid {
  readonly levels: readonly GreyImage[];

  constructor(width: number, height: number, maxLevels: number) {
    const levels: GreyImage[] = [{ width, height, data: new Float32Array(width * height) }];
    while (levels.length < maxLevels) {
      const last = levels[levels.length - 1]!;
      const w = last.width >> 1;
      const h = last.height >> 1;
      if (Math.min(w, h) < SMALLEST_SIDE) break;
      levels.push({ width: w, height: h, data: new Float32Array(w * h) });
    }
    this.levels = levels;
  }

  /** Fills every level from `grey` (the size of level 0). */
  build(grey: Float32Array): void {
    this.levels[0]!.data.set(grey);
    for (let l = 1; l < this.levels.length; l++) {
      const below = this.levels[l - 1]!;
      const { width: w, height: h, data } = this.levels[l]!;
      const src = below.data;
      const bw = below.width;
      for (let y = 0; y < h; y++) {
        const top = 2 * y * bw;
        const bottom = top + bw;
        for (let x = 0; x < w; x++) {
          const sx = 2 * x;
          data[y * w + x] = 0.25 * (src[top + sx]! + src[top + sx + 1]! + src[bottom + sx]! + src[bottom + sx + 1]!);
        }
      }
    }
  }
}
