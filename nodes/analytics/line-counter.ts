import type { ClassCounts, LineEvent, LineTotals } from '../../pipeline/analytics-types.ts';

/** A crossing as the counter finds it; the analytics node names it (event-id.ts). */
export type LineCrossing = Omit<LineEvent, 'id'>;
import { sideOfPolyline, toPixels, type Point } from './geometry.ts';

/** What counting needs to know of one object in one frame. */
export interface ObjectSighting {
  readonly objectId: number;
  readonly trackId: number;
  readonly className: string;
  readonly confirmed: boolean;
  /** The anchor point in pixels, this frame. */
  readonly anchor: Point;
  /** Where the object was first seen (pixels), to measure how far it has moved. */
  readonly firstAnchor: Point;
  readonly ageMs: number;
}

export interface LineDefinition {
  readonly name: string;
  /** A polyline in normalized coordinates (0..1 of the frame's width and height). */
  readonly points: readonly Point[];
  /** The screen direction (unit vector) of an `in` crossing. */
  readonly inDirection: Point;
}

export interface LineRules {
  /** Frames an object must stay on the new side before the crossing counts (jitter on the line). */
  readonly hysteresisFrames: number;
  /** Least track age, in milliseconds, for a crossing to count. */
  readonly minAgeMs: number;
  /** Least distance moved since first seen, as a fraction of the frame's diagonal. */
  readonly minDistance: number;
}

interface SideState {
  /** The side the object has settled on: +1 `in` side, -1 `out` side, 0 not known yet. */
  stable: -1 | 0 | 1;
  candidate: -1 | 0 | 1;
  candidateFrames: number;
  /** A crossing seen but not counted yet (the track not confirmed or not old enough). */
  pending: 'in' | 'out' | undefined;
}

/**
 * Counts objects crossing one line, in and out, per class (supervision's `LineZone`, made to
 * survive id churn). A crossing counts when the object:
 * - has settled on the new side for `hysteresisFrames` frames (so jitter on the line and a stop
 *   on it count nothing);
 * - is a confirmed track, at least `minAgeMs` old, that has moved at least `minDistance`;
 * - has not been counted on this line in this direction before (an object is keyed by its
 *   object id, which survives re-entry: see ObjectIdentities).
 * A crossing seen while the track was still tentative counts as soon as it is confirmed.
 */
export class LineCounter {
  private readonly sides = new Map<number, SideState>();
  private readonly counted = new Set<string>();
  private readonly totalIn: Record<string, number> = {};
  private readonly totalOut: Record<string, number> = {};
  private pixels: { width: number; height: number; polyline: Point[] } | undefined;

  constructor(
    readonly line: LineDefinition,
    private readonly rules: LineRules,
  ) {}

  /** Looks at one frame's objects; returns the crossings that count, as events. */
  trigger(sightings: readonly ObjectSighting[], width: number, height: number, stream: string, ptsMs: number): LineCrossing[] {
    if (this.pixels?.width !== width || this.pixels.height !== height) {
      this.pixels = { width, height, polyline: toPixels(this.line.points, width, height) };
    }
    const diagonal = Math.hypot(width, height);
    const events: LineCrossing[] = [];
    for (const s of sightings) {
      const state = this.observe(s.objectId, sideOfPolyline(s.anchor, this.pixels.polyline, this.line.inDirection));
      if (!state.pending || !s.confirmed || s.ageMs < this.rules.minAgeMs) continue;
      const moved = Math.hypot(s.anchor[0] - s.firstAnchor[0], s.anchor[1] - s.firstAnchor[1]) / diagonal;
      if (moved < this.rules.minDistance) continue;
      const direction = state.pending;
      state.pending = undefined;
      const key = `${s.objectId}:${direction}`;
      if (this.counted.has(key)) continue;
      this.counted.add(key);
      const totals = direction === 'in' ? this.totalIn : this.totalOut;
      totals[s.className] = (totals[s.className] ?? 0) + 1;
      events.push({ type: 'line', stream, line: this.line.name, trackId: s.trackId, className: s.className, direction, ptsMs });
    }
    return events;
  }

  /** Drops what is kept for an object that is gone for good. */
  forget(objectId: number): void {
    this.sides.delete(objectId);
    this.counted.delete(`${objectId}:in`);
    this.counted.delete(`${objectId}:out`);
  }

  /** Continues from totals counted before (the stream ran elsewhere until now). */
  resumeFrom(totals: { readonly in: ClassCounts; readonly out: ClassCounts }): void {
    Object.assign(this.totalIn, totals.in);
    Object.assign(this.totalOut, totals.out);
  }

  totals(): LineTotals {
    return { name: this.line.name, points: this.line.points, in: { ...this.totalIn }, out: { ...this.totalOut } };
  }

  /** Updates the object's side with hysteresis; records a settled change of side as pending. */
  private observe(objectId: number, side: -1 | 0 | 1): SideState {
    let state = this.sides.get(objectId);
    if (!state) {
      state = { stable: 0, candidate: 0, candidateFrames: 0, pending: undefined };
      this.sides.set(objectId, state);
    }
    if (side === 0) return state; // beyond the line's ends: no information
    if (state.stable === 0) {
      state.stable = side;
      return state;
    }
    if (side === state.stable) {
      state.candidateFrames = 0;
      return state;
    }
    if (side === state.candidate) state.candidateFrames++;
    else {
      state.candidate = side;
      state.candidateFrames = 1;
    }
    if (state.candidateFrames >= this.rules.hysteresisFrames) {
      state.stable = side;
      state.candidateFrames = 0;
      // Crossing back before being counted cancels the crossing that was pending.
      const direction = side > 0 ? 'in' : 'out';
      state.pending = state.pending && state.pending !== direction ? undefined : direction;
    }
    return state;
  }
}
