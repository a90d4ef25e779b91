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
