import type { Point } from './geometry.ts';

/**
 * Which object each track is, across id changes: when a track is lost (or removed) and a new
 * track of the same class is confirmed close to where the old one was predicted to be, within a
 * short time, the new track is the same object come back. Counters key their state by object,
 * so a line never counts the same car twice because the tracker gave it a second id.
 *
 * Raising `withinMs` or `withinDistance` merges more (fewer double counts after long
 * occlusions, but two different objects following each other closely may be merged); lowering
 * them merges less.
 */
export interface ReentryOptions {
  /** How long after it vanished an object may come back, in milliseconds of stream time. */
  readonly withinMs: number;
  /** How far from where it vanished, as a fraction of the frame's diagonal. */
  readonly withinDistance: number;
}

export interface TrackSighting {
  readonly trackId: number;
  readonly classId: number;
  readonly state: 'tentative' | 'confirmed' | 'lost';
  readonly anchor: Point;
}

interface Vanished {
  readonly objectId: number;
  readonly classId: number;
  anchor: Point;
  readonly sinceMs: number;
}

export class ObjectIdentities {
  /** Live tracks: track id → object id. */
  private readonly objectOf = new Map<number, number>();
  /** Tracks lost, or removed not long ago, that a newcomer may turn out to be. */
  private readonly vanished = new Map<number, Vanished>();
  private readonly confirmedOnce = new Set<number>();
  /** Lost tracks whose object a newcomer has taken over: they stay out of `vanished`. */
  private readonly superseded = new Set<number>();

  constructor(private readonly options: ReentryOptions) {}

  /** The object a track is; a track not yet resolved is its own object. */
  objectId(trackId: number): number {
    return this.objectOf.get(trackId) ?? trackId;
  }

  /**
   * Takes one frame's live tracks. Returns the objects that are gone for good (no live track,
   * no chance to come back any more), so that counters can forget them.
   */
  update(sightings: readonly TrackSighting[], ptsMs: number, diagonal: number): number[] {
    const candidates: number[] = [];
    const live = new Set<number>();
    for (const s of sightings) {
      live.add(s.trackId);
      if (!this.objectOf.has(s.trackId)) this.objectOf.set(s.trackId, s.trackId);
      if (s.state === 'lost') {
        if (this.superseded.has(s.trackId)) continue;
        const known = this.vanished.get(s.trackId);
        if (known) known.anchor = s.anchor; // the tracker's prediction moves on
        else this.vanished.set(s.trackId, { objectId: this.objectId(s.trackId), classId: s.classId, anchor: s.anchor, sinceMs: ptsMs });
      } else if (s.state === 'confirmed') {
        this.vanished.delete(s.trackId);
        if (!this.confirmedOnce.has(s.trackId)) {
          this.confirmedOnce.add(s.trackId);
          // Merged into an object come back, its provisional object is gone for good.
          if (this.resolveNewcomer(s, ptsMs, diagonal)) candidates.push(s.trackId);
        }
      }
    }
    // Tracks the tracker removed: a lost one stays in `vanished` until its time is up.
    for (const [trackId, objectId] of this.objectOf) {
      if (live.has(trackId)) continue;
      this.objectOf.delete(trackId);
      this.confirmedOnce.delete(trackId);
      this.superseded.delete(trackId);
      if (!this.vanished.has(trackId)) candidates.push(objectId);
    }
    for (const [trackId, v] of this.vanished) {
      // A lost track past the window stays listed (it can no longer be claimed) so that it is
      // not listed anew, with a fresh time, on the next frame.
      if (ptsMs - v.sinceMs <= this.options.withinMs || live.has(trackId)) continue;
      this.vanished.delete(trackId);
      candidates.push(v.objectId);
    }
    if (candidates.length === 0) return [];
    const referenced = new Set([...this.objectOf.values(), ...[...this.vanished.values()].map((v) => v.objectId)]);
    return [...new Set(candidates)].filter((objectId) => !referenced.has(objectId));
  }

  /**
   * A track confirmed for the first time may be a vanished object come back: the nearest one.
   * Returns whether it was.
   */
  private resolveNewcomer(s: TrackSighting, ptsMs: number, diagonal: number): boolean {
    if (this.options.withinMs <= 0) return false;
    let best: [number, Vanished] | undefined;
    let bestDistance = this.options.withinDistance * diagonal;
    for (const entry of this.vanished) {
      const v = entry[1];
      if (v.classId !== s.classId || ptsMs - v.sinceMs > this.options.withinMs || v.objectId === s.trackId) continue;
      const distance = Math.hypot(v.anchor[0] - s.anchor[0], v.anchor[1] - s.anchor[1]);
      if (distance <= bestDistance) {
        bestDistance = distance;
        best = entry;
      }
    }
    if (!best) return false;
    this.objectOf.set(s.trackId, best[1].objectId);
    this.vanished.delete(best[0]);
    this.superseded.add(best[0]);
    return true;
  }
}
