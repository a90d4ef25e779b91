/**
 * In-place radix-2 complex FFT, one and two dimensional, on `Float64Array` real and imaginary
 * parts: what phase correlation needs, without a dependency. Sizes are powers of two; the bit
 * reversal table, twiddles and the column scratch are made once per size.
 */
export class Fft {
  private readonly reversed: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(Math.log2(size)) || size < 2) throw new RangeError(`FFT size must be a power of two, got ${size}`);
    const bits = Math.log2(size);
    this.reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
      this.reversed[i] = r;
    }
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let i = 0; i < size / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / size);
      this.sin[i] = Math.sin((2 * Math.PI * i) / size);
    }
  }

  /**
   * Transforms `size` values starting at `offset`, `stride` apart. Forward uses `e^{-2πikn/N}`;
   * the inverse is not scaled (divide by N yourself, once, where it matters).
   */
  transform(re: Float64Array, im: Float64Array, inverse = false, offset = 0, stride = 1): void {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const j = this.reversed[i]!;
      if (j > i) {
        const a = offset + i * stride;
        const b = offset + j * stride;
        const tr = re[a]!;
        re[a] = re[b]!;
        re[b] = tr;
        const ti = im[a]!;
        im[a] = im[b]!;
        im[b] = ti;
      }
    }
    const sign = inverse ? 1 : -1;
    for (let half = 1; half < n; half <<= 1) {
      const step = n / (2 * half);
      for (let start = 0; start < n; start += 2 * half) {
        for (let k = 0; k < half; k++) {
          const wr = this.cos[k * step]!;
          const wi = sign * this.sin[k * step]!;
          const a = offset + (start + k) * stride;
          const b = a + half * stride;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
  }
}

/** A 2D FFT of a `width x height` row-major complex image, rows then columns, in place. */
export class Fft2d {
  private readonly rows: Fft;
  private readonly columns: Fft;
  /** One column at a time, copied out contiguous: strided butterflies miss the cache. */
  private readonly columnRe: Float64Array;
  private readonly columnIm: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rows = new Fft(width);
    this.columns = height === width ? this.rows : new Fft(height);
    this.columnRe = new Float64Array(height);
    this.columnIm = new Float64Array(height);
  }

  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const { width: w, height: h, columnRe, columnIm } = this;
    for (let y = 0; y < h; y++) this.rows.transform(re, im, inverse, y * w, 1);
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        columnRe[y] = re[y * w + x]!;
        columnIm[y] = im[y * w + x]!;
      }
      this.columns.transform(columnRe, columnIm, inverse);
      for (let y = 0; y < h; y++) {
        re[y * w + x] = columnRe[y]!;
        im[y * w + x] = columnIm[y]!;
      }
    }
  }
}
