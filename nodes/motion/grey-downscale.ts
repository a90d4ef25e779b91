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
  /** Red, green and blue sums per grey column, for the row of grey pixels being made. */
  private readonly channelSums: readonly [Float32Array, Float32Array, Float32Array];

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
    this.channelSums = [new Float32Array(this.size.width), new Float32Array(this.size.width), new Float32Array(this.size.width)];
  }

  /**
   * Writes the grey image (0..255, BT.601 luma) of the RGB24 `rgb` into `grey` and, when `chroma`
   * is given, its two colour-difference planes (BT.601 Cb and Cr, -128..128): a car as bright as
   * the road but of another colour (red on grey asphalt) stands out there and not in the grey
   * image. R, G and B are averaged, which is the same as averaging each plane, since the planes
   * are linear in them.
   */
  apply(rgb: Uint8Array, grey: Float32Array, chroma?: { readonly cb: Float32Array; readonly cr: Float32Array }): void {
    const { width, height } = this.size;
    const stride = this.frameWidth * 3;
    const [reds, greens, blues] = this.channelSums;
    for (let gy = 0; gy < height; gy++) {
      reds.fill(0);
      greens.fill(0);
      blues.fill(0);
      const y0 = this.yStart[gy]!;
      const y1 = this.yEnd[gy]!;
      for (let y = y0; y < y1; y++) {
        const row = y * stride;
        for (let gx = 0; gx < width; gx++) {
          let r = 0;
          let g = 0;
          let b = 0;
          for (let x = this.xStart[gx]!, x1 = this.xEnd[gx]!; x < x1; x++) {
            const p = row + x * 3;
            r += rgb[p]!;
            g += rgb[p + 1]!;
            b += rgb[p + 2]!;
          }
          reds[gx] = reds[gx]! + r;
          greens[gx] = greens[gx]! + g;
          blues[gx] = blues[gx]! + b;
        }
      }
      const rows = y1 - y0;
      for (let gx = 0; gx < width; gx++) {
        const count = rows * (this.xEnd[gx]! - this.xStart[gx]!);
        const r = reds[gx]! / count;
        const g = greens[gx]! / count;
        const b = blues[gx]! / count;
        const i = gy * width + gx;
        grey[i] = 0.299 * r + 0.587 * g + 0.114 * b;
        if (!chroma) continue;
        chroma.cb[i] = -0.168736 * r - 0.331264 * g + 0.5 * b;
        chroma.cr[i] = 0.5 * r - 0.418688 * g - 0.081312 * b;
      }
    }
  }
}
