/**
 * Things persist; compression noise does not. A codec's blocks and a sensor's noise light up
 * a different handful of pixels every frame, while a car is there frame after frame, a little
 * further along. Each blob is given an age: one more than the oldest blob of the previous frame
 * within its reach (its box grown by its own longer side, how far a car moves in a frame at
 * most), and only blobs at least `frames` old are reported. The ages live in a map of the
 * background's grid, rewritten every frame.
 */
import type { Affine } from '../../lib/geometry/affine.ts';
import type { BlobGroup } from './blob-groups.ts';
import { shiftPlane, warpNearest } from './warp.ts';

/** Reach at least this many pixels, however small the blob: a car of 2 grey pixels still moves. */
const LEAST_REACH = 3;

export class BlobPersistence {
  private ages: Uint8Array;
  private next: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.ages = new Uint8Array(width * height);
    this.next = new Uint8Array(width * height);
  }

  /** Moves the ages with the background's grid, content at `(x, y)` to `(x + dx, y + dy)`. */
  shift(dx: number, dy: number): void {
    shiftPlane(this.ages, this.width, this.height, dx, dy, 0, this.next);
    [this.ages, this.next] = [this.next, this.ages];
  }

  /** Resamples the ages as the background's grid is resampled: the new pixel `p` takes the age at `affine(p)`. */
  warp(affine: Affine): void {
    warpNearest(this.ages, this.width, this.height, affine, 0, this.next);
    [this.ages, this.next] = [this.next, this.ages];
  }

  /** The groups seen in at least `frames` frames in a row; `labels` is the label map their pieces are in. */
  keep(groups: readonly BlobGroup[], labels: Int32Array, frames: number): BlobGroup[] {
    const { width: w, height: h, ages, next } = this;
    next.fill(0);
    const kept: BlobGroup[] = [];
    for (const group of groups) {
      const reach = Math.max(LEAST_REACH, group.x2 - group.x1, group.y2 - group.y1);
      let oldest = 0;
      for (let y = Math.max(0, group.y1 - reach); y < Math.min(h, group.y2 + reach); y++) {
        const row = y * w;
        for (let x = Math.max(0, group.x1 - reach); x < Math.min(w, group.x2 + reach); x++) {
          if (ages[row + x]! > oldest) oldest = ages[row + x]!;
        }
      }
      const age = Math.min(255, oldest + 1);
      for (let y = group.y1; y < group.y2; y++) {
        const row = y * w;
        for (let x = group.x1; x < group.x2; x++) {
          const label = labels[row + x]!;
          if (label !== 0 && group.labels.includes(label) && next[row + x]! < age) next[row + x] = age;
        }
      }
      if (age >= frames) kept.push(group);
    }
    this.ages = next;
    this.next = ages;
    return kept;
  }
}
