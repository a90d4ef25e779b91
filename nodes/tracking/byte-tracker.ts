/**
 * Multi-object tracking by detection, ByteTrack-style: stable ids for the things a detector
 * finds frame after frame.
 *
 * Each update:
 * 1. every track is predicted to the frame's time (constant-velocity Kalman, {@link BoxKalman});
 * 2. confident detections (score ≥ `highScore`) are matched to confirmed and lost tracks, by
 *    box IoU, and by mask IoU too where both have masks;
 * 3. the less confident detections (`lowScore` ≤ score < `highScore`) get a second chance
 *    against the confirmed tracks still unmatched: a car half hidden for one frame keeps its id
 *    instead of being lost;
 * 4. tentative tracks are matched to the confident detections left over;
 * 5. confident detections still unmatched, scoring ≥ `newTrackScore`, start tentative tracks.
 *
 * Lifecycle: tentative → confirmed after `confirmAfter` consecutive hits → lost when unmatched
 * (kept and predicted for `keepLost`, and found again by step 2) → removed. A tentative track
 * that misses a frame is removed at once: that is what keeps flicker from inflating counts.
 * Classes never mix: a track only matches detections of its own class. Ids are unique within
 * the tracker and never reused.
 *
 * Times are the frames' timestamps, not frame counts, since flow control may drop frames;
 * `confirmAfter` and `keepLost` may still be given in frames (processed frames).
 */
import type { InstanceMask, TrackState } from '../../pipeline/frame.ts';
import { minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';
import { boxIou, type Box } from '../../lib/geometry/box.ts';
import { BoxKalman } from './box-kalman.ts';
import { maskIou } from './mask-iou.ts';

import type { Affine } from '../../lib/geometry/affine.ts';

/** The packet's `cameraMotion.affine` form (lib/geometry/affine.ts). */
export type { Affine };

/** A duration in processed frames or in seconds of stream time. */
export type Duration = { readonly frames: number } | { readonly seconds: number };

export interface TrackerOptions {
  /** Detections at or above this score are matched first and may start tracks. */
  readonly highScore: number;
  /** Detections below this are ignored; between this and `highScore` they only extend tracks. */
  readonly lowScore: number;
  /** An unmatched detection starts a track only at or above this score. */
  readonly newTrackScore: number;
  /** Least IoU for a confident detection to continue a track. Lower follows faster motion, and swaps ids more. */
  readonly matchIou: number;
  /** Least IoU for a low-score detection to continue a track; stricter, as those are less reliable. */
  readonly lowScoreMatchIou: number;
  /** Least IoU for a detection to continue a tentative track. */
  readonly tentativeMatchIou: number;
  /**
   * Boxes are grown by this share of their width and height on every side before their IoU is
   * taken (C-BIoU's buffer): a car of 10 px that moved 8 px still overlaps its prediction. 0
   * compares the boxes as they are.
   */
  readonly matchBuffer?: number;
  /** Consecutive hits a new track needs before it is confirmed (and counted). */
  readonly confirmAfter: Duration;
  /** How long a confirmed track that is not seen is kept, predicted, before it is removed. */
  readonly keepLost: Duration;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.6,
  matchIou: 0.2,
  lowScoreMatchIou: 0.5,
  tentativeMatchIou: 0.3,
  confirmAfter: { frames: 3 },
  keepLost: { seconds: 1 },
};

export interface Detection {
  readonly box: Box;
  readonly score: number;
  readonly classId: number;
  readonly mask?: InstanceMask;
}

/** A track as the tracker reports it after an update. */
export interface TrackReport {
  readonly trackId: number;
  readonly state: TrackState;
  readonly classId: number;
  /** The detection's box when matched, the prediction when lost. */
  readonly box: Box;
  readonly score: number;
  /** Index of the detection it matched in this update, or -1 (lost). */
  readonly detection: number;
  /** Stream time since the track started, in milliseconds. */
  readonly ageMs: number;
  readonly hits: number;
}

interface Track {
  readonly id: number;
  readonly classId: number;
  readonly kalman: BoxKalman;
  readonly startedMs: number;
  state: TrackState;
  hits: number;
  consecutiveHits: number;
  lastSeenMs: number;
  updatesSinceSeen: number;
  score: number;
  mask: InstanceMask | undefined;
  /** Box centre when the mask was taken, to shift the mask to a prediction. */
  maskCentre: [number, number];
}

const toCentre = (b: readonly number[]): [number, number, number, number] => [
  (b[0]! + b[2]!) / 2,
  (b[1]! + b[3]!) / 2,
  b[2]! - b[0]!,
  b[3]! - b[1]!,
];
const toCorners = (c: readonly number[]): [number, number, number, number] => [
  c[0]! - c[2]! / 2,
  c[1]! - c[3]! / 2,
  c[0]! + c[2]! / 2,
  c[1]! + c[3]! / 2,
];

/** `box` grown by `share` of its width and height on every side. */
const grown = (box: readonly number[], share: number): Box => {
  const dx = share * (box[2]! - box[0]!);
  const dy = share * (box[3]! - box[1]!);
  return [box[0]! - dx, box[1]! - dy, box[2]! + dx, box[3]! + dy];
};

export class ByteTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private lastPtsMs: number | undefined;

  constructor(private readonly options: TrackerOptions = DEFAULT_TRACKER_OPTIONS) {}

  /** Tracks currently kept (tentative, confirmed and lost). */
  get size(): number {
    return this.tracks.length;
  }

  /**
   * Associates one frame's detections with the tracks; returns every live track. `cameraMotion`,
   * the affine from the previous frame to this one (see {@link BoxKalman.applyAffine}), moves
   * every track with the picture before it is predicted: a panning or drifting camera then
   * looks, to the tracker, like a fixed one.
   */
  update(detections: readonly Detection[], ptsMs: number, cameraMotion?: Affine): TrackReport[] {
    const dt = this.lastPtsMs === undefined ? 0 : (ptsMs - this.lastPtsMs) / 1000;
    this.lastPtsMs = ptsMs;
    const predicted = new Map<Track, [number, number, number, number]>();
    for (const track of this.tracks) {
      if (cameraMotion) track.kalman.applyAffine(cameraMotion);
      track.kalman.predict(dt);
      predicted.set(track, toCorners(track.kalman.box()));
    }

    const { highScore, lowScore } = this.options;
    const high = detections.flatMap((d, i) => (d.score >= highScore ? [i] : []));
    const low = detections.flatMap((d, i) => (d.score >= lowScore && d.score < highScore ? [i] : []));
    const matchOf = new Map<Track, number>();

    // 2. Confident detections against confirmed and lost tracks.
    const established = this.tracks.filter((t) => t.state !== 'tentative');
    const leftHigh = this.associate(established, high, detections, predicted, this.options.matchIou, matchOf, true);
    // 3. Low-score detections against confirmed tracks not matched yet (not lost ones: a weak
    //    detection is not enough to bring back an object that was gone).
    const stillConfirmed = established.filter((t) => t.state === 'confirmed' && !matchOf.has(t));
    this.associate(stillConfirmed, low, detections, predicted, this.options.lowScoreMatchIou, matchOf, false);
    // 4. Tentative tracks against the confident detections left.
    const tentative = this.tracks.filter((t) => t.state === 'tentative');
    const leftover = this.associate(tentative, leftHigh, detections, predicted, this.options.tentativeMatchIou, matchOf, true);

    // Lifecycle of every existing track.
    for (const track of this.tracks) {
      const d = matchOf.get(track);
      if (d !== undefined) this.hit(track, detections[d]!, ptsMs);
      else this.miss(track);
    }
    this.tracks = this.tracks.filter((t) => !this.expired(t, ptsMs));

    // 5. New tentative tracks.
    for (const d of leftover) {
      const detection = detections[d]!;
      if (detection.score < this.options.newTrackScore) continue;
      const track: Track = {
        id: this.nextId++,
        classId: detection.classId,
        kalman: new BoxKalman(toCentre(detection.box)),
        startedMs: ptsMs,
        state: 'tentative',
        hits: 0,
        consecutiveHits: 0,
        lastSeenMs: ptsMs,
        updatesSinceSeen: 0,
        score: detection.score,
        mask: undefined,
        maskCentre: [0, 0],
      };
      this.hit(track, detection, ptsMs, false);
      this.tracks.push(track);
      matchOf.set(track, d);
    }

    return this.tracks.map((track) => {
      const d = matchOf.get(track) ?? -1;
      return {
        trackId: track.id,
        state: track.state,
        classId: track.classId,
        box: d >= 0 ? detections[d]!.box : predicted.get(track)!,
        score: track.score,
        detection: d,
        ageMs: ptsMs - track.startedMs,
        hits: track.hits,
      };
    });
  }

  /**
   * Min-cost matching of `tracks` to detections `candidates`; records matches in `matchOf`
   * and returns the candidates left unmatched.
   */
  private associate(
    tracks: readonly Track[],
    candidates: readonly number[],
    detections: readonly Detection[],
    predicted: ReadonlyMap<Track, readonly number[]>,
    minIou: number,
    matchOf: Map<Track, number>,
    useMasks: boolean,
  ): number[] {
    if (tracks.length === 0 || candidates.length === 0) return [...candidates];
    const buffer = this.options.matchBuffer ?? 0;
    const cost = new Float64Array(tracks.length * candidates.length).fill(Infinity);
    tracks.forEach((track, r) => {
      const box = predicted.get(track)!;
      candidates.forEach((d, c) => {
        const detection = detections[d]!;
        if (detection.classId !== track.classId) return;
        const iou = buffer > 0 ? boxIou(grown(box, buffer), grown(detection.box, buffer)) : boxIou(box, detection.box);
        if (iou <= 0) return;
        let similarity = iou;
        if (useMasks && track.mask && detection.mask) {
          const [cx, cy] = toCentre(box);
          const shift = maskIou(detection.mask, track.mask, Math.round(cx - track.maskCentre[0]), Math.round(cy - track.maskCentre[1]));
          similarity = (iou + shift) / 2;
        }
        if (similarity >= minIou) cost[r * candidates.length + c] = 1 - similarity;
      });
    });
    const assignment = minCostAssignment(cost, tracks.length, candidates.length);
    const taken = new Set<number>();
    assignment.forEach((c, r) => {
      if (c < 0) return;
      matchOf.set(tracks[r]!, candidates[c]!);
      taken.add(c);
    });
    return candidates.filter((_, c) => !taken.has(c));
  }

  private hit(track: Track, detection: Detection, ptsMs: number, correct = true): void {
    if (correct) track.kalman.update(toCentre(detection.box));
    track.hits++;
    track.consecutiveHits = track.state === 'lost' ? 1 : track.consecutiveHits + 1;
    track.lastSeenMs = ptsMs;
    track.updatesSinceSeen = 0;
    track.score = detection.score;
    if (detection.mask) {
      track.mask = detection.mask;
      const [cx, cy] = toCentre(detection.box);
      track.maskCentre = [cx, cy];
    }
    if (track.state === 'lost') track.state = 'confirmed';
    else if (track.state === 'tentative' && this.reached(this.options.confirmAfter, track.consecutiveHits, ptsMs - track.startedMs)) {
      track.state = 'confirmed';
    }
  }

  private miss(track: Track): void {
    track.updatesSinceSeen++;
    track.consecutiveHits = 0;
    if (track.state === 'confirmed') track.state = 'lost';
  }

  private expired(track: Track, ptsMs: number): boolean {
    if (track.updatesSinceSeen === 0) return false;
    // A tentative track that misses a frame was most likely a false detection.
    if (track.state === 'tentative') return true;
    return this.reached(this.options.keepLost, track.updatesSinceSeen, ptsMs - track.lastSeenMs, true);
  }

  /** Whether `frames` / `elapsedMs` has passed `limit` (strictly, when `strict`). */
  private reached(limit: Duration, frames: number, elapsedMs: number, strict = false): boolean {
    if ('frames' in limit) return strict ? frames > limit.frames : frames >= limit.frames;
    return strict ? elapsedMs > limit.seconds * 1000 : elapsedMs >= limit.seconds * 1000;
  }
}
