import type { TrackedObject } from '../../pipeline/frame.ts';

/**
 * The last few positions of every live track (bottom centre of its box), for drawing trails.
 * Tracks that are gone are forgotten, so memory follows the number of live tracks.
 */
export class Trails {
  private readonly points = new Map<number, [number, number][]>();

  constructor(private readonly length: number) {}

  update(tracks: readonly TrackedObject[]): ReadonlyMap<number, readonly (readonly [number, number])[]> {
    const live = new Set<number>();
    for (const t of tracks) {
      live.add(t.trackId);
      if (t.state !== 'confirmed') continue;
      const trail = this.points.get(t.trackId) ?? [];
      trail.push([t.bbox[0] + t.bbox[2] / 2, t.bbox[1] + t.bbox[3]]);
      if (trail.length > this.length) trail.shift();
      this.points.set(t.trackId, trail);
    }
    for (const id of this.points.keys()) if (!live.has(id)) this.points.delete(id);
    return this.points;
  }
}
