import { runsArea, runsInside } from '../../lib/geometry/pixel-runs.ts';
import type { ClassCounts, ZoneEvent, ZoneTotals } from '../../pipeline/analytics-types.ts';

/** An entry or exit as the monitor finds it; the analytics node names it (event-id.ts). */
export type ZoneCrossing = Omit<ZoneEvent, 'id'>;
import { insidePolygon, rasterizePolygon, toPixels, type Point } from './geometry.ts';

export interface ZoneDefinition {
  readonly name: string;
  /** A polygon in normalized coordinates (0..1 of the frame's width and height). */
  readonly polygon: readonly Point[];
}

export interface ZoneRules {
  /**
   * `anchor`: an object is inside when its anchor point is. A number in (0, 1]: when at least
   * that fraction of its mask is (what box-only tools cannot do: a person leaning over the
   * edge of a zone is not in it).
   */
  readonly insideBy: 'anchor' | number;
  /** Frames an object must stay inside (or outside) before it enters (or exits): flicker guard. */
  readonly inertiaFrames: number;
}

export interface ZoneSighting {
  readonly objectId: number;
  readonly trackId: number;
  readonly className: string;
  readonly confirmed: boolean;
  /** False while the track is lost: its last state is kept (an occluded person is still there). */
  readonly visible: boolean;
  readonly anchor: readonly [number, number];
  /** The pixels of the object's segment this frame ({@link Segment.runs}), for mask-based membership. */
  readonly runs: Uint32Array | undefined;
}

interface Membership {
  inside: boolean;
  changeFrames: number;
  enteredMs: number;
  trackId: number;
  className: string;
}

/**
 * Occupancy of one zone, with enter and exit events and dwell time (supervision's
 * `PolygonZone`, with inertia and mask-based membership). An object is inside or outside; it
 * changes only after `inertiaFrames` consecutive frames on the other side, so a flickering
 * detection neither leaves nor re-enters. An object that disappears for good while inside
 * exits when it is forgotten.
 */
export class ZoneMonitor {
  private readonly members = new Map<number, Membership>();
  private readonly enteredTotals: Record<string, number> = {};
  private pixels: { width: number; height: number; polygon: Point[]; raster: Uint8Array | undefined } | undefined;

  constructor(
    readonly zone: ZoneDefinition,
    private readonly rules: ZoneRules,
  ) {}

  update(sightings: readonly ZoneSighting[], width: number, height: number, stream: string, ptsMs: number): ZoneCrossing[] {
    if (this.pixels?.width !== width || this.pixels.height !== height) {
      this.pixels = { width, height, polygon: toPixels(this.zone.polygon, width, height), raster: undefined };
    }
    const events: ZoneCrossing[] = [];
    for (const s of sightings) {
      if (!s.confirmed || !s.visible) continue;
      const inside = this.isInside(s);
      let m = this.members.get(s.objectId);
      if (!m) {
        if (!inside) continue; // outside objects need no state
        m = { inside: false, changeFrames: 0, enteredMs: ptsMs, trackId: s.trackId, className: s.className };
        this.members.set(s.objectId, m);
      }
      m.trackId = s.trackId;
      if (inside === m.inside) {
        m.changeFrames = 0;
        continue;
      }
      if (++m.changeFrames < this.rules.inertiaFrames) continue;
      m.changeFrames = 0;
      m.inside = inside;
      if (inside) {
        m.enteredMs = ptsMs;
        this.enteredTotals[s.className] = (this.enteredTotals[s.className] ?? 0) + 1;
        events.push(this.event(stream, 'enter', m, ptsMs));
      } else {
        events.push(this.event(stream, 'exit', m, ptsMs));
        this.members.delete(s.objectId);
      }
    }
    return events;
  }

  /** An object gone for good: it exits if it was inside. */
  forget(objectId: number, stream: string, ptsMs: number): ZoneCrossing | undefined {
    const m = this.members.get(objectId);
    this.members.delete(objectId);
    return m?.inside ? this.event(stream, 'exit', m, ptsMs) : undefined;
  }

  /** Continues from entries counted before (the stream ran elsewhere until now). */
  resumeFrom(entered: ClassCounts): void {
    Object.assign(this.enteredTotals, entered);
  }

  totals(): ZoneTotals {
    const occupancy: Record<string, number> = {};
    for (const m of this.members.values()) if (m.inside) occupancy[m.className] = (occupancy[m.className] ?? 0) + 1;
    return { name: this.zone.name, polygon: this.zone.polygon, occupancy, entered: { ...this.enteredTotals } };
  }

  private event(stream: string, event: 'enter' | 'exit', m: Membership, ptsMs: number): ZoneCrossing {
    return {
      type: 'zone',
      stream,
      zone: this.zone.name,
      event,
      trackId: m.trackId,
      className: m.className,
      dwellMs: event === 'enter' ? 0 : ptsMs - m.enteredMs,
      ptsMs,
    };
  }

  private isInside(s: ZoneSighting): boolean {
    const pixels = this.pixels!;
    if (this.rules.insideBy === 'anchor' || !s.runs) return insidePolygon(s.anchor, pixels.polygon);
    pixels.raster ??= rasterizePolygon(pixels.polygon, pixels.width, pixels.height);
    const area = runsArea(s.runs);
    return area > 0 && runsInside(s.runs, pixels.raster) / area >= this.rules.insideBy;
  }
}
