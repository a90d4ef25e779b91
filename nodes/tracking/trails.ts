import { boxBottomCenter } from '../../lib/geometry/box.ts';
import type { TrackedObject } from '../../pipeline/frame.ts';

export type TrailPoint = readonly [number, number];

/**
 * The last few positions of every live track (bottom centre of its box, in its confirmed
 * frames), kept by the tracker so the overlay and Foxglove draw the same trail from the packet.
 * Tracks that are gone are forgotten, so memory follows the number of live tracks.
 */
export class Trails {
  private readonly points = new Map<number, TrailPoint[]>();

  constructor(private readonly length: number) {}

  /** Moves every stored point with the camera (`affine`: previous frame → this one), so trails stay on the ground. */
  move(affine: readonly [number, number, number, number, number, number]): void {
    const [a, b, c, d, e, f] = affine;
    for (const trail of this.points.values()) {
      // New points, not changed ones: snapshots handed out earlier share them.
      for (let i = 0; i < trail.length; i++) {
        const [x, y] = trail[i]!;
        trail[i] = [a * x + b * y + c, d * x + e * y + f];
      }
    }
  }

  /**
   * Adds this frame's positions and returns each track's trail as a snapshot that later updates
   * leave alone (a sink may still hold an older packet).
   */
  update(tracks: readonly Pick<TrackedObject, 'trackId' | 'state' | 'bbox'>[]): ReadonlyMap<number, readonly TrailPoint[]> {
    const live = new Set<number>();
    const snapshots = new Map<number, readonly TrailPoint[]>();
    for (const t of tracks) {
      live.add(t.trackId);
      if (this.length === 0) continue;
      const trail = this.points.get(t.trackId) ?? [];
      if (t.state === 'confirmed') {
        trail.push(boxBottomCenter(t.bbox));
        if (trail.length > this.length) trail.shift();
        this.points.set(t.trackId, trail);
      }
      if (trail.length) snapshots.set(t.trackId, trail.slice());
    }
    for (const id of this.points.keys()) if (!live.has(id)) this.points.delete(id);
    return snapshots;
  }
}
