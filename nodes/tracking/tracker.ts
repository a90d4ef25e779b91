import { z } from 'zod';
import { isIdentityAffine } from '../../lib/geometry/affine.ts';
import { runsMask } from '../../lib/geometry/pixel-runs.ts';
import { withSection, type ClassSet, type FramePacket, type PanopticFrame, type Segment, type TrackedObject } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { ByteTracker, DEFAULT_TRACKER_OPTIONS, type Detection, type TrackReport } from './byte-tracker.ts';
import { Trails, type TrailPoint } from './trails.ts';

const duration = z.union([
  z.strictObject({ frames: z.number().int().positive() }),
  z.strictObject({ seconds: z.number().positive() }),
]);

const fraction = z.number().min(0).max(1);

/**
 * Tracker: stable instance ids across time (byte-tracker.ts). Reads the panoptic frame's thing
 * segments (masks included) when there is one, else the detector's instances; writes the track
 * id and state into the thing segments, and every live track into `tracks`, each with its
 * segment's pixels and its trail, so later stages need not look either up. Where the packet
 * says how the camera moved (`cameraMotion`), predictions and trails move with the picture.
 *
 * ```yaml
 * - { type: tracker, confirmAfter: { frames: 3 }, keepLost: { seconds: 1 } }
 * ```
 */
export const tracker = defineOperator({
  type: 'tracker',
  description: 'Gives every thing a track id that stays the same from frame to frame.',
  needs: [],
  needsOneOf: ['panoptic', 'instances'],
  adds: ['tracks'],
  // Track ids and states go into the panoptic segments too.
  updates: ['panoptic'],
  options: z.object({
    highScore: fraction.default(DEFAULT_TRACKER_OPTIONS.highScore).describe('Detections at or above this are matched first and may start tracks'),
    lowScore: fraction.default(DEFAULT_TRACKER_OPTIONS.lowScore).describe('Detections below this are ignored; up to highScore they only extend existing tracks'),
    newTrackScore: fraction.default(DEFAULT_TRACKER_OPTIONS.newTrackScore).describe('Least score for an unmatched detection to start a track'),
    matchIou: fraction.default(DEFAULT_TRACKER_OPTIONS.matchIou).describe('Least IoU to continue a track; lower follows faster motion but swaps ids more'),
    lowScoreMatchIou: fraction.default(DEFAULT_TRACKER_OPTIONS.lowScoreMatchIou).describe('Least IoU for a low-score detection to continue a track'),
    tentativeMatchIou: fraction.default(DEFAULT_TRACKER_OPTIONS.tentativeMatchIou).describe('Least IoU to continue a tentative track'),
    matchBuffer: z
      .number()
      .min(0)
      .max(2)
      .default(0)
      .describe('Grow boxes by this share of their size on every side before matching (C-BIoU): small, fast things (cars from a drone) keep their ids; 0 matches boxes as they are'),
    confirmAfter: duration
      .default(DEFAULT_TRACKER_OPTIONS.confirmAfter)
      .describe('Consecutive hits before a new track is confirmed: { frames: N } or { seconds: S }'),
    keepLost: duration
      .default(DEFAULT_TRACKER_OPTIONS.keepLost)
      .describe('How long an unseen track is kept and predicted: { frames: N } or { seconds: S }'),
    trailLength: z.number().int().min(0).default(20).describe('Positions kept per track as its trail (drawn by overlay and Foxglove); 0 for none'),
    cameraMotion: z
      .boolean()
      .default(true)
      .describe("Move predictions and trails by the frame's estimated camera motion (motion-segmentation adds it) when the packet has it; false ignores it"),
  }),
  async create(options, ctx) {
    if (options.lowScore > options.highScore) {
      throw new Error(`tracker: lowScore (${options.lowScore}) must not be above highScore (${options.highScore})`);
    }
    const byteTracker = new ByteTracker(options);
    const trails = new Trails(options.trailLength);
    return frameStage(ctx, (packet) => {
      const started = performance.now();
      const input = packet.panoptic ? fromPanoptic(packet.panoptic) : fromInstances(packet);
      // A fixed camera's estimate is the identity: moving by it would only cost time.
      const cameraMotion = options.cameraMotion && packet.cameraMotion && !isIdentityAffine(packet.cameraMotion.affine) ? packet.cameraMotion.affine : undefined;
      const reports = byteTracker.update(input.detections, packet.frame.ptsMs, cameraMotion);
      if (cameraMotion) trails.move(cameraMotion);
      const trailOf = trails.update(reports.map((r) => ({ trackId: r.trackId, state: r.state, bbox: r.box })));
      const tracks = reports.map((r) => trackedObject(r, input, trailOf.get(r.trackId)));
      const tracked = withSection(packet, 'tracks', tracks, ctx.label, performance.now() - started);
      return packet.panoptic ? { ...tracked, panoptic: withTrackIds(packet.panoptic, tracks) } : tracked;
    });
  },
});

interface TrackerInput {
  readonly detections: Detection[];
  readonly classes: ClassSet;
  /** The panoptic segment of each detection, when the detections are segments. */
  readonly segments: readonly Segment[] | undefined;
}

function fromPanoptic(panoptic: PanopticFrame): TrackerInput {
  const things = panoptic.segments.filter((s) => s.isThing);
  return {
    detections: things.map((s) => ({
      box: s.bbox,
      score: s.score,
      classId: s.classId,
      mask: runsMask(s.runs, panoptic.width, s.bbox),
    })),
    classes: panoptic.classes,
    segments: things,
  };
}

function fromInstances(packet: FramePacket): TrackerInput {
  const instances = packet.instances;
  if (!instances) throw new Error('tracker: the packet has neither panoptic segments nor instances');
  const detections: Detection[] = [];
  for (let i = 0; i < instances.count; i++) {
    const b = instances.boxes.subarray(i * 4, i * 4 + 4);
    const mask = instances.masks?.[i];
    detections.push({ box: [b[0]!, b[1]!, b[2]!, b[3]!], score: instances.scores[i]!, classId: instances.classIds[i]!, ...(mask ? { mask } : {}) });
  }
  return { detections, classes: instances.classes, segments: undefined };
}

function trackedObject(report: TrackReport, input: TrackerInput, trail: readonly TrailPoint[] | undefined): TrackedObject {
  const segment = report.detection >= 0 ? input.segments?.[report.detection] : undefined;
  return {
    trackId: report.trackId,
    state: report.state,
    classId: report.classId,
    className: input.classes.names[report.classId] ?? String(report.classId),
    bbox: report.box,
    score: report.score,
    ...(segment === undefined ? {} : { segmentId: segment.id, runs: segment.runs }),
    ...(trail === undefined ? {} : { trail }),
    ageMs: report.ageMs,
    hits: report.hits,
  };
}

/** A copy of the panoptic frame whose thing segments carry their track's id and state. */
function withTrackIds(panoptic: PanopticFrame, tracks: readonly TrackedObject[]): PanopticFrame {
  const bySegment = new Map(tracks.flatMap((t) => (t.segmentId === undefined ? [] : [[t.segmentId, t] as const])));
  return {
    ...panoptic,
    segments: panoptic.segments.map((s) => {
      const track = bySegment.get(s.id);
      return track ? { ...s, trackId: track.trackId, trackState: track.state } : s;
    }),
  };
}
