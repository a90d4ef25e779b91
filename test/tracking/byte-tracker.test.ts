/**
 * The tracker on hand-made trajectories at 25 frames/s (40 ms apart): each test is a small
 * scene a person can picture, with the ids it must produce.
 */
import { describe, expect, it } from 'vitest';
import { ByteTracker, DEFAULT_TRACKER_OPTIONS, type Detection, type TrackerOptions, type TrackReport } from '../../nodes/tracking/byte-tracker.ts';

const FRAME_MS = 40;
const CAR = 0;
const PERSON = 1;

/** A 40x30 box with its top-left corner at (x, y). */
const box = (x: number, y: number, w = 40, h = 30): Detection['box'] => [x, y, x + w, y + h];
const det = (x: number, y: number, score = 0.9, classId = CAR): Detection => ({ box: box(x, y), score, classId });

/** Runs frames of detections; returns, per frame, the track id each detection got (0 = none). */
function run(frames: Detection[][], options: Partial<TrackerOptions> = {}) {
  const tracker = new ByteTracker({ ...DEFAULT_TRACKER_OPTIONS, ...options });
  const reports: TrackReport[][] = [];
  const ids = frames.map((detections, f) => {
    const report = tracker.update(detections, f * FRAME_MS);
    reports.push(report);
    return detections.map((_, d) => report.find((r) => r.detection === d)?.trackId ?? 0);
  });
  return { ids, reports, tracker };
}

const confirmedIds = (reports: TrackReport[][]) =>
  new Set(reports.flatMap((r) => r.filter((t) => t.state === 'confirmed').map((t) => t.trackId)));

describe('ByteTracker', () => {
  it('follows one moving object with one id, confirmed after three hits', () => {
    const frames = Array.from({ length: 10 }, (_, f) => [det(10 + 8 * f, 50)]);
    const { ids, reports } = run(frames);
    expect(ids.flat()).toEqual(Array(10).fill(1));
    expect(reports.map((r) => r[0]!.state)).toEqual(['tentative', 'tentative', ...Array(8).fill('confirmed')]);
  });

  it('keeps two crossing objects apart', () => {
    // Two cars on the same row, driving towards each other at 10 px/frame; they overlap
    // around frame 10 and come apart again.
    const frames = Array.from({ length: 21 }, (_, f) => [det(0 + 10 * f, 50), det(200 - 10 * f, 54)]);
    const { ids } = run(frames);
    expect(new Set(ids.map((pair) => pair[0]))).toEqual(new Set([1]));
    expect(new Set(ids.map((pair) => pair[1]))).toEqual(new Set([2]));
  });

  it('gives an object back its id after a short occlusion', () => {
    // Moves right at 6 px/frame, hidden behind something for frames 10-15 (0.24 s).
    const frames = Array.from({ length: 25 }, (_, f) => (f >= 10 && f < 16 ? [] : [det(20 + 6 * f, 80)]));
    const { ids, reports } = run(frames);
    expect(new Set(ids.flat())).toEqual(new Set([1]));
    expect(reports[12]!.map((r) => [r.trackId, r.state])).toEqual([[1, 'lost']]);
    // While lost, the track is predicted along its path.
    const predictedX = reports[15]![0]!.box[0];
    expect(predictedX).toBeGreaterThan(20 + 6 * 14 - 8);
    expect(predictedX).toBeLessThan(20 + 6 * 16 + 8);
  });

  it('survives detector flicker without new ids', () => {
    // Seen in every other frame once established.
    const frames = Array.from({ length: 30 }, (_, f) => (f > 4 && f % 2 === 1 ? [] : [det(30 + 4 * f, 40)]));
    const { ids, reports } = run(frames);
    expect(new Set(ids.flat())).toEqual(new Set([1]));
    expect(confirmedIds(reports)).toEqual(new Set([1]));
  });

  it('carries a track through a low-score frame (a detection the detector is unsure of)', () => {
    const frames = Array.from({ length: 12 }, (_, f) => [det(10 + 5 * f, 60, f === 6 || f === 7 ? 0.25 : 0.9)]);
    const { ids, reports } = run(frames);
    expect(ids.flat()).toEqual(Array(12).fill(1));
    expect(reports[6]![0]!.state).toBe('confirmed');
  });

  it('never confirms a one-frame false positive, and never reuses its id', () => {
    const frames: Detection[][] = Array.from({ length: 8 }, (_, f) => [det(10 + 4 * f, 10)]);
    frames[3]!.push(det(300, 200)); // a ghost for one frame
    frames[6]!.push(det(500, 100)); // a real newcomer from frame 6 on
    frames[7]!.push(det(504, 100));
    const { ids, reports } = run(frames);
    expect(ids[3]).toEqual([1, 2]);
    expect(ids[6]).toEqual([1, 3]); // id 2 is gone for good
    expect(ids[7]).toEqual([1, 3]);
    expect(confirmedIds(reports)).toEqual(new Set([1]));
    expect(reports[4]!.map((r) => r.trackId)).toEqual([1]);
  });

  it('does not mix classes: a person next to a car keeps its own track', () => {
    const frames = Array.from({ length: 6 }, (_, f) => [det(100 + 2 * f, 50, 0.9, CAR), det(102 + 2 * f, 52, 0.9, PERSON)]);
    const { ids, reports } = run(frames);
    expect(ids.every(([car, person]) => car === 1 && person === 2)).toBe(true);
    expect(reports[5]!.map((r) => r.classId).sort()).toEqual([CAR, PERSON]);
  });

  it('removes a lost track after keepLost (in seconds) and gives a returning object a new id', () => {
    const frames = Array.from({ length: 30 }, (_, f) => (f >= 6 && f < 26 ? [] : [det(50, 50)]));
    const { ids } = run(frames, { keepLost: { seconds: 0.5 } }); // gap is 0.8 s
    expect(ids[5]).toEqual([1]);
    expect(ids[26]).toEqual([2]);
  });

  it('counts confirmation and loss in frames when asked to', () => {
    const frames = Array.from({ length: 12 }, (_, f) => (f >= 4 && f < 8 ? [] : [det(50, 50)]));
    const { ids, reports } = run(frames, { confirmAfter: { frames: 2 }, keepLost: { frames: 3 } });
    expect(reports[1]![0]!.state).toBe('confirmed');
    expect(ids[8]).toEqual([2]); // four missed frames > three kept
  });
});
