/**
 * The blobs of a binary mask: 8-connected components, labelled in two passes with union-find
 * over provisional labels (the classic Rosenfeld scan). Typed arrays throughout, kept between
 * frames; nothing is allocated per pixel.
 */
export interface Blob {
  /** Its value in the label map. */
  readonly label: number;
  readonly area: number;
  /** Bounds in mask pixels, far edges exclusive. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export class ConnectedComponents {
  /** Label per pixel after {@link find}: 0 for background, else the blob's label (1, 2, ...). */
  readonly labels: Int32Array;
  private parent: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.labels = new Int32Array(width * height);
    this.parent = new Int32Array(1024);
  }

  private root(label: number): number {
    const parent = this.parent;
    let r = label;
    while (parent[r] !== r) r = parent[r]!;
    // Path compression: the next look-up of any label on the way is one step.
    while (parent[label] !== r) {
      const next = parent[label]!;
      parent[label] = r;
      label = next;
    }
    return r;
  }

  private union(a: number, b: number): number {
    const ra = this.root(a);
    const rb = this.root(b);
    if (ra === rb) return ra;
    const low = ra < rb ? ra : rb;
    this.parent[ra === low ? rb : ra] = low;
    return low;
  }

  /** The blobs of `mask` (non-zero is foreground) with at least `minArea` pixels; labels them in {@link labels}. */
  find(mask: Uint8Array, minArea: number): Blob[] {
    const { width: w, height: h, labels } = this;
    let next = 1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (mask[i] === 0) {
          labels[i] = 0;
          continue;
        }
        let label = 0;
        // Neighbours already visited: left, and the three above.
        const left = x > 0 ? labels[i - 1]! : 0;
        const upLeft = x > 0 && y > 0 ? labels[i - w - 1]! : 0;
        const up = y > 0 ? labels[i - w]! : 0;
        const upRight = x + 1 < w && y > 0 ? labels[i - w + 1]! : 0;
        if (left) label = left;
        if (upLeft) label = label ? this.union(label, upLeft) : upLeft;
        if (up) label = label ? this.union(label, up) : up;
        if (upRight) label = label ? this.union(label, upRight) : upRight;
        if (!label) {
          if (next >= this.parent.length) {
            const grown = new Int32Array(this.parent.length * 2);
            grown.set(this.parent);
            this.parent = grown;
          }
          this.parent[next] = next;
          label = next++;
        }
        labels[i] = label;
      }
    }
    // Second pass: final labels, numbered 1.. in scan order, and each blob's area and bounds.
    const final = new Int32Array(next);
    const stats: number[] = []; // area, x1, y1, x2, y2 per final label
    let count = 0;
    for (let l = 1; l < next; l++) {
      const r = this.root(l);
      if (r === l) {
        final[l] = ++count;
        stats.push(0, w, h, 0, 0);
      } else final[l] = final[r]!;
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const provisional = labels[i]!;
        if (!provisional) continue;
        const label = final[provisional]!;
        labels[i] = label;
        const s = (label - 1) * 5;
        stats[s]!++;
        if (x < stats[s + 1]!) stats[s + 1] = x;
        if (y < stats[s + 2]!) stats[s + 2] = y;
        if (x + 1 > stats[s + 3]!) stats[s + 3] = x + 1;
        if (y + 1 > stats[s + 4]!) stats[s + 4] = y + 1;
      }
    }
    const blobs: Blob[] = [];
    for (let label = 1; label <= count; label++) {
      const s = (label - 1) * 5;
      if (stats[s]! < minArea) continue;
      blobs.push({ label, area: stats[s]!, x1: stats[s + 1]!, y1: stats[s + 2]!, x2: stats[s + 3]!, y2: stats[s + 4]! });
    }
    return blobs;
  }
}
