/**
 * Counting on synthetic trajectories with exact expected counts. The frame is 960x540 at
 * 25 frames/s; the line runs across it at y = 270 (0.5) from x = 96 to 864, `in` is downwards;
 * objects are 40x30 boxes and the anchor is the bottom centre, so an object is on the line when
 * its box top is at y = 240.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { analytics } from '../../nodes/analytics/analytics.ts';
import { packetOf, type FrameAnalytics, type TrackedObject, type TrackState } from '../../pipeline/frame.ts';
import { chainContext } from '../helpers/data-dir.ts';

const W = 960;
const H = 540;
const FRAME_MS = 40;

interface Step {
  readonly trackId: number;
  /** Box top-left. */
  readonly x: number;
  readonly y: number;
  readonly state?: TrackState;
  readonly className?: string;
}

/** One frame's tracks per entry; an object's age counts from its first frame. */
async function runAnalytics(frames: Step[][], options: Record<string, unknown>): Promise<FrameAnalytics[]> {
  const firstSeen = new Map<number, number>();
  const packets = frames.map((steps, seq) => {
    const tracks: TrackedObject[] = steps.map((s) => {
      if (!firstSeen.has(s.trackId)) firstSeen.set(s.trackId, seq);
      return {
        trackId: s.trackId,
        state: s.state ?? 'confirmed',
        classId: s.className === 'person' ? 11 : 13,
        className: s.className ?? 'car',
        bbox: [s.x, s.y, s.x + 40, s.y + 30],
        score: 0.9,
        ageMs: (seq - firstSeen.get(s.trackId)!) * FRAME_MS,
        hits: seq - firstSeen.get(s.trackId)! + 1,
      };
    });
    const frame = { stream: 'synthetic', seq, ptsMs: seq * FRAME_MS, width: W, height: H, data: new Uint8Array(0), capturedAtMs: 0 };
    return { ...packetOf(frame), tracks };
  });
  const operator = await analytics.create(analytics.options.parse(options), chainContext({ label: 'analytics' }));
  const out = await lastValueFrom(from(packets).pipe(operator, toArray()));
  return out.map((p) => p.analytics!);
}

const LINE = { lines: [{ name: 'stopline', points: [[0.1, 0.5], [0.9, 0.5]], in: 'down' }] };

/** Frames of one object moving from top y0 to y1 in `steps` frames. */
const path = (trackId: number, x: number, y0: number, y1: number, steps: number, extra: Partial<Step> = {}): Step[][] =>
  Array.from({ length: steps + 1 }, (_, i) => [{ trackId, x, y: y0 + ((y1 - y0) * i) / steps, ...extra }]);

const merge = (...tracks: Step[][][]): Step[][] =>
  Array.from({ length: Math.max(...tracks.map((t) => t.length)) }, (_, f) => tracks.flatMap((t) => t[f] ?? []));

const totals = (result: FrameAnalytics[]) => {
  const last = result[result.length - 1]!.lines[0]!;
  return { in: last.in, out: last.out };
};
const lineEvents = (result: FrameAnalytics[]) => result.flatMap((r) => r.events.filter((e) => e.type === 'line'));

describe('line counting', () => {
  it('counts crossings both ways, once each', async () => {
    const result = await runAnalytics(merge(path(1, 200, 150, 350, 20), path(2, 600, 350, 150, 20)), LINE);
    expect(totals(result)).toEqual({ in: { car: 1 }, out: { car: 1 } });
    expect(lineEvents(result).map((e) => [e.trackId, e.direction])).toEqual(
      expect.arrayContaining([
        [1, 'in'],
        [2, 'out'],
      ]),
    );
  });

  it('counts nothing for jitter on the line that never settles on the other side', async () => {
    const approach = path(1, 300, 150, 238, 10);
    const jitter = Array.from({ length: 20 }, (_, i) => [{ trackId: 1, x: 300, y: i % 2 ? 236 : 243 }]);
    const leave = path(1, 300, 236, 150, 10);
    const result = await runAnalytics([...approach, ...jitter, ...leave], LINE);
    expect(totals(result)).toEqual({ in: {}, out: {} });
  });

  it('counts a stop on the line once, when the car goes on', async () => {
    const approach = path(1, 300, 150, 239, 10);
    const stop = Array.from({ length: 30 }, (_, i) => [{ trackId: 1, x: 300, y: 239 + (i % 3) - 1 }]);
    const goOn = path(1, 300, 240, 350, 12);
    const result = await runAnalytics([...approach, ...stop, ...goOn], LINE);
    expect(totals(result)).toEqual({ in: { car: 1 }, out: {} });
    expect(lineEvents(result)).toHaveLength(1);
  });

  it('counts once when the tracker switches ids right at the line', async () => {
    // Track 5 comes down to just above the line, is lost for two frames, and track 9 picks the
    // car up just below it and drives on.
    const before = path(5, 300, 150, 235, 10);
    const lost = [[{ trackId: 5, x: 300, y: 240, state: 'lost' as const }], [{ trackId: 5, x: 300, y: 245, state: 'lost' as const }]];
    const after = path(9, 300, 250, 340, 10);
    const result = await runAnalytics([...before, ...lost, ...after], LINE);
    expect(totals(result)).toEqual({ in: { car: 1 }, out: {} });
    expect(lineEvents(result)).toHaveLength(1);
  });

  it('does not count a car twice when it is lost after crossing and found again under a new id', async () => {
    // Counted as track 3; lost behind a truck for 0.6 s; found again as track 4 a little back
    // up the road (the detector's box jumped), and it crosses the line a second time.
    const first = path(3, 300, 150, 300, 15);
    const lost = Array.from({ length: 15 }, (_, i) => [{ trackId: 3, x: 300, y: 300 + i, state: 'lost' as const }]);
    const again = path(4, 300, 230, 330, 10);
    const result = await runAnalytics([...first, ...lost, ...again], LINE);
    expect(totals(result)).toEqual({ in: { car: 1 }, out: {} });
  });

  it('counts two different cars that follow each other at a distance', async () => {
    const first = path(1, 300, 150, 350, 20);
    const second = [...Array.from({ length: 60 }, () => []), ...path(2, 300, 150, 350, 20)];
    const result = await runAnalytics(merge(first, second), LINE);
    expect(totals(result)).toEqual({ in: { car: 2 }, out: {} });
  });

  it('never counts an unconfirmed track', async () => {
    const result = await runAnalytics(path(1, 300, 150, 350, 20, { state: 'tentative' }), LINE);
    expect(totals(result)).toEqual({ in: {}, out: {} });
  });

  it('counts a track that crossed while tentative once it is confirmed', async () => {
    const tentative = path(1, 300, 200, 280, 4, { state: 'tentative' });
    const confirmed = path(1, 300, 285, 350, 10);
    const result = await runAnalytics([...tentative, ...confirmed], LINE);
    expect(totals(result)).toEqual({ in: { car: 1 }, out: {} });
  });

  it('ignores objects passing beyond the end of the line', async () => {
    const result = await runAnalytics(path(1, 900, 150, 350, 20), LINE); // x = 900..940 > 864
    expect(totals(result)).toEqual({ in: {}, out: {} });
  });
});

describe('zones', () => {
  const ZONE = { zones: [{ name: 'shop', polygon: [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]], inertiaFrames: 3 }] };

  it('reports enter and exit with the dwell time, and occupancy meanwhile', async () => {
    // A person walks right through the zone: bottom-centre x from 100 to 860 at y = 270.
    const walk = Array.from({ length: 39 }, (_, i) => [{ trackId: 7, x: 80 + 20 * i, y: 240, className: 'person' }]);
    const result = await runAnalytics(walk, ZONE);
    const events = result.flatMap((r) => r.events);
    expect(events.map((e) => (e.type === 'zone' ? e.event : e.type))).toEqual(['enter', 'exit']);
    const exit = events[1]!;
    expect(exit.type === 'zone' && exit.dwellMs).toBe(24 * FRAME_MS);
    expect(result[20]!.zones[0]!.occupancy).toEqual({ person: 1 });
    expect(result[38]!.zones[0]!.occupancy).toEqual({});
    expect(result[38]!.zones[0]!.entered).toEqual({ person: 1 });
  });

  it('does not let a one-frame flicker make an exit and a new entry', async () => {
    const frames = Array.from({ length: 20 }, (_, i) => [{ trackId: 7, x: i === 10 ? 900 : 460, y: 240, className: 'person' }]);
    const result = await runAnalytics(frames, ZONE);
    expect(result.flatMap((r) => r.events).map((e) => (e.type === 'zone' ? e.event : ''))).toEqual(['enter']);
  });

  it('exits an object that disappears for good while inside', async () => {
    const present = Array.from({ length: 10 }, () => [{ trackId: 7, x: 460, y: 240, className: 'person' }]);
    const gone = Array.from({ length: 60 }, () => []); // longer than the re-entry window
    const result = await runAnalytics([...present, ...gone], ZONE);
    expect(result.flatMap((r) => r.events).map((e) => (e.type === 'zone' ? e.event : ''))).toEqual(['enter', 'exit']);
  });
});

describe('counts, unique objects and crowds', () => {
  it('counts confirmed things per frame, unique objects since the start, and people', async () => {
    const frames = merge(
      path(1, 100, 100, 120, 5, { className: 'person' }),
      path(2, 300, 100, 120, 5, { className: 'person' }),
      path(3, 500, 100, 120, 5, { className: 'car' }),
      path(4, 700, 100, 120, 5, { className: 'car', state: 'tentative' }),
    );
    const result = await runAnalytics(frames, { crowd: { heatmap: true } });
    const last = result[result.length - 1]!;
    expect(last.counts).toEqual({ person: 2, car: 1 });
    expect(last.unique).toEqual({ person: 2, car: 1 });
    expect(last.crowd.persons).toBe(2);
    const heat = last.crowd.heatmap!;
    // The cell under the first person (bottom centre 120, 150 → cell 8, 10 of 64x36) is warm.
    expect(heat.data[10 * heat.width + 8]!).toBeGreaterThan(1);
    expect(heat.data[30 * heat.width + 60]).toBe(0);
  });
});
