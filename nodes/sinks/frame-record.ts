import { toXywh, type XywhBox } from '../../lib/geometry/box.ts';
import type { FramePacket, Segment } from '../../pipeline/frame.ts';
import type { ClassCounts } from '../../pipeline/analytics-types.ts';
import { thingCounts } from '../analytics/thing-counts.ts';
import { zoneDensities } from '../analytics/zone-density.ts';

/** The per-frame record of `--events` files (one JSON object per line). */
export interface FrameRecord {
  readonly type: 'frame';
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  readonly width: number;
  readonly height: number;
  /** Thing instances per class name: confirmed tracks when a tracker runs, else every instance. */
  readonly counts: Record<string, number>;
  readonly segments: readonly SegmentRecord[];
  /** Per line, crossings so far per class and direction (with an analytics node). */
  readonly lines?: Record<string, { readonly in: ClassCounts; readonly out: ClassCounts }>;
  /**
   * Per zone, confirmed objects inside now and entries so far, per class; with a crowd-density
   * node, the people its map puts inside the zone, with the band (1 decimal).
   */
  readonly zones?: Record<string, { readonly occupancy: ClassCounts; readonly entered: ClassCounts; readonly density?: DensityBand }>;
  /** Distinct objects since the start, per class. */
  readonly unique?: ClassCounts;
  /** Fraction of the frame each stuff class covers. */
  readonly coverage?: Readonly<Record<string, number>>;
  readonly persons?: number;
  /**
   * People estimated by a density model (crowd-density), 1 decimal, with the band the model's
   * expected error gives (`low`..`high`; `expectedError` as a fraction of the count); `ageMs`:
   * stream milliseconds since the frame it was computed on (it runs every few frames).
   */
  readonly density?: DensityBand & { readonly expectedError: number; readonly ageMs: number };
  /** Milliseconds from decode to this record. */
  readonly latencyMs: number;
  /** Milliseconds per node. */
  readonly timings: Readonly<Record<string, number>>;
}

/** A density count and the band around it, people, 1 decimal. */
export interface DensityBand {
  readonly count: number;
  readonly low: number;
  readonly high: number;
}

/** A segment as the documented records list it: `bbox` is `[x, y, width, height]` there. */
export interface SegmentRecord extends Pick<Segment, 'id' | 'className' | 'isThing' | 'area' | 'score' | 'trackId' | 'trackState' | 'maskSource'> {
  readonly bbox: XywhBox;
}

/** The record of one segment (its pixels stay behind: the records carry only what they document). */
export function segmentRecord(s: Segment): SegmentRecord {
  return {
    id: s.id,
    className: s.className,
    isThing: s.isThing,
    area: s.area,
    bbox: toXywh(s.bbox),
    score: round(s.score, 4),
    ...(s.trackId === undefined ? {} : { trackId: s.trackId, trackState: s.trackState }),
    ...(s.maskSource === undefined ? {} : { maskSource: s.maskSource }),
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A count and its band as the records carry them: 1 decimal. */
export function densityBand(d: DensityBand): DensityBand {
  return { count: round(d.count, 1), low: round(d.low, 1), high: round(d.high, 1) };
}

/** Records already built, so every sink that wants one (events, counts topic) shares it. */
const built = new WeakMap<FramePacket, FrameRecord>();

/** The record of a processed frame, built once per packet whatever the number of sinks. */
export function frameRecord(packet: FramePacket, nowMs: number = Date.now()): FrameRecord {
  let record = built.get(packet);
  if (!record) {
    record = buildRecord(packet, nowMs);
    built.set(packet, record);
  }
  return record;
}

function buildRecord(packet: FramePacket, nowMs: number): FrameRecord {
  const { frame, panoptic, analytics, density } = packet;
  const segments = panoptic?.segments ?? [];
  const zoneDensity = density && analytics?.zones.length ? zoneDensities(density, analytics.zones) : undefined;
  return {
    type: 'frame',
    stream: frame.stream,
    seq: frame.seq,
    ptsMs: round(frame.ptsMs, 3),
    width: frame.width,
    height: frame.height,
    counts: analytics?.counts ?? thingCounts(segments),
    segments: segments.map(segmentRecord),
    ...(analytics
      ? {
          lines: Object.fromEntries(analytics.lines.map((l) => [l.name, { in: l.in, out: l.out }])),
          zones: Object.fromEntries(
            analytics.zones.map((z, i) => [
              z.name,
              { occupancy: z.occupancy, entered: z.entered, ...(zoneDensity ? { density: densityBand(zoneDensity[i]!) } : {}) },
            ]),
          ),
          unique: analytics.unique,
          coverage: analytics.coverage,
          persons: analytics.crowd.persons,
        }
      : {}),
    ...(density
      ? { density: { ...densityBand(density), expectedError: round(density.expectedError, 3), ageMs: round(density.ageMs, 3) } }
      : {}),
    latencyMs: nowMs - frame.capturedAtMs,
    timings: Object.fromEntries(Object.entries(packet.timings).map(([k, v]) => [k, round(v, 2)])),
  };
}
