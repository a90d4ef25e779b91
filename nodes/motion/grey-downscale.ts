/**
 * RGB frame → small grey image, by averaging the frame pixels each grey pixel covers (an area
 * filter: no aliasing of fine texture into false motion, unlike picking one pixel in N). The
 * spans of frame columns and rows each grey pixel averages are worked out once per frame size.
 */
export interface GreySize {
  readonly width: number;
  readonly height: number;
}

/** The grey size for frames of `width x height` processed `processWidth` wide (never wider than the frame). */
export function greySizeFor(width: number, height: number, processWidth: number): GreySize {
  const w = Math.min(width, processWidth);
  return { width: w, height: Math.max(1, Math.round((height * w) / width)) };
}

export class GreyDownscale {
  readonly size: GreySize;
  private readonly xStart: Int32Array;
  private readonly xEnd: Int32Array;
  private readonly yStart: Int32Array;
  private readonly yEnd: Int32Array;
  private readonly rowSums: Float32Array;

  constructor(
    readonly frameWidth: number,
    readonly frameHeight: number,
    processWidth: number,
  ) {
    this.size = greySizeFor(frameWidth, frameHeight, processWidth);
    const spans = (out: number, src: number) => {
      const start = new Int32Array(out);
      const end = new Int32Array(out);
      for (let i = 0; i < out; i++) {
        start[i] = Math.floor((i * src) / out);
        end[i] = Math.max(start[i]! + 1, Math.floor(((i + 1) * src) / out));
      }
      return { start, end };
    };
    const xs = spans(this.size.width, frameWidth);
    const ys = spans(this.size.height, frameHeight);
    this.xStart = xs.start;
    this.xEnd = xs.end;
    this.yStart = ys.start;
    this.yEnd = ys.end;
    this.rowSums = new Float32Array(this.size.width);
  }

  /** Writes the grey image (0..255, BT.601 luma) of the RGB24 `rgb` into `out`. */
  apply(rgb: Uint8Array, out: Float32Array): void {
    const { width, height } = this.size;
    const stride = this.frameWidth * 3;
    const sums = this.rowSums;
    for (let gy = 0; gy < height; gy++) {
      sums.fill(0);
      const y0 = this.yStart[gy]!;
      const y1 = this.yEnd[gy]!;
      for (let y = y0; y < y1; y++) {
        const row = y * stride;
        for (let gx = 0; gx < width; gx++) {
          let sum = 0;
          for (let x = this.xStart[gx]!, x1 = this.xEnd[gx]!; x < x1; x++) {
            const p = row + x * 3;
            sum += 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
          }
          sums[gx] = sums[gx]! + sum;
        }
      }
      const rows = y1 - y0;
      for (let gx = 0; gx < width; gx++) out[gy * width + gx] = sums[gx]! / (rows * (this.xEnd[gx]! - this.xStart[gx]!));
    }
  }
}
