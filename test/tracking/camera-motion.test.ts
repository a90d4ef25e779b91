/**
 * The tracker under a moving camera, on a real clip: a window of 480x272 moves over the fixed
 * traffic camera of ahmetozlu_vehicle_counting_input_video.mp4 (640x352, 24 fps) the way a
 * drone drifts and corrects, by up to 29 px a frame across and 20 down, changing direction
 * every few frames. The camera motion is estimated from the cropped images alone (the
 * motion-segmentation node's estimator), then:
 *
 * - identities: the objects tracked on the fixed view (motion blobs, ids from the tracker) are
 *   the ground truth; the same boxes seen through the moving window are tracked again, with the
 *   estimated camera motion and without, and scored with `panoptes eval mot`'s metrics.
 * - the estimate itself is compared with the window's true movement;
 * - small, fast things: the same paths with boxes a quarter the size, tracked with plain IoU
 *   and with boxes grown by half their size (matchBuffer, C-BIoU), both after camera motion.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSequence, sequenceMetrics } from '../../evaluation/mot/evaluate.ts';
import { parseMotText } from '../../lib/formats/mot-file.ts';
import type { Box } from '../../lib/geometry/box.ts';
import { MotionSegmenter, type MotionOptions } from '../../nodes/motion/motion-segmenter.ts';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { BoxKalman } from '../../nodes/tracking/box-kalman.ts';
import { ByteTracker, DEFAULT_TRACKER_OPTIONS, type Affine, type Detection } from '../../nodes/tracking/byte-tracker.ts';
import { dataDir } from '../helpers/data-dir.ts';

const WIDTH = 640;
const HEIGHT = 352;
const FRAME_MS = 1000 / 24;
const FRAMES = 200;
const WINDOW = { width: 480, height: 272 };

/** Where the window's top-left corner is in frame `f`: two sines of different periods. */
const windowAt = (f: number): readonly [number, number] => [
  Math.round(80 + 75 * Math.sin((2 * Math.PI * f) / 16)),
  Math.round(40 + 35 * Math.sin((2 * Math.PI * f) / 11)),
];

const MOTION: MotionOptions = {
  processWidth: 320,
  threshold: 20,
  deviations: 3,
  adaptation: 20,
  settle: { seconds: 1 },
  minArea: 200,
  maxAreaFraction: 0.25,
  openRadius: 1,
  closeRadius: 2,
  compensateCamera: false,
  minMotionConfidence: 0.05,
};

function decodeClip(): Uint8Array {
  const clip = path.join(dataDir(), 'replay/videos/ahmetozlu_vehicle_counting_input_video.mp4');
  const args = ['-v', 'error', '-i', clip, '-frames:v', String(FRAMES), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const raw = execFileSync(ffmpegPath().path, args, { maxBuffer: FRAMES * WIDTH * HEIGHT * 3 + 1024 });
  expect(raw.length).toBe(FRAMES * WIDTH * HEIGHT * 3);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

interface Truth {
  readonly frame: number;
  readonly id: number;
  readonly box: Box;
}

/** Tracks of the moving things on the fixed view: the identities the moving window must keep. */
function fixedViewTracks(clip: Uint8Array): Truth[] {
  const segmenter = new MotionSegmenter(MOTION);
  const tracker = new ByteTracker(DEFAULT_TRACKER_OPTIONS);
  const truth: Truth[] = [];
  for (let f = 0; f < FRAMES; f++) {
    const data = clip.subarray(f * WIDTH * HEIGHT * 3, (f + 1) * WIDTH * HEIGHT * 3);
    const { blobs } = segmenter.process({ width: WIDTH, height: HEIGHT, data }, f * FRAME_MS);
    const reports = tracker.update(blobs.map((b) => ({ box: b.box, score: 0.9, classId: 0 })), f * FRAME_MS);
    for (const t of reports) if (t.state === 'confirmed' && t.detection >= 0) truth.push({ frame: f, id: t.trackId, box: t.box });
  }
  return truth;
}

/** Runs the tracker over per-frame detections; its confirmed tracks as MOTChallenge text. */
function trackedText(detections: readonly Detection[][], motions: readonly (Affine | undefined)[], options = DEFAULT_TRACKER_OPTIONS): string {
  const tracker = new ByteTracker(options);
  const lines: string[] = [];
  detections.forEach((list, f) => {
    for (const t of tracker.update(list, f * FRAME_MS, motions[f])) {
      if (t.state !== 'confirmed') continue;
      const [x1, y1, x2, y2] = t.box;
      lines.push(`${f + 1},${t.trackId},${x1},${y1},${x2 - x1},${y2 - y1},${t.score},-1,-1,-1`);
    }
  });
  return lines.join('\n');
}

describe('tracker with camera motion compensation', () => {
  it('keeps identities through a drifting window with the estimated camera motion, and loses them without', () => {
    const clip = decodeClip();
    const truth = fixedViewTracks(clip);

    const estimator = new MotionSegmenter({ ...MOTION, compensateCamera: true });
    const crop = new Uint8Array(WINDOW.width * WINDOW.height * 3);
    const motions: (Affine | undefined)[] = [];
    const errors: number[] = [];
    const detections: Detection[][] = [];
    const gtLines: string[] = [];
    for (let f = 0; f < FRAMES; f++) {
      const [left, top] = windowAt(f);
      const frame = clip.subarray(f * WIDTH * HEIGHT * 3);
      for (let y = 0; y < WINDOW.height; y++) {
        const from = ((top + y) * WIDTH + left) * 3;
        crop.set(frame.subarray(from, from + WINDOW.width * 3), y * WINDOW.width * 3);
      }
      const { cameraMotion } = estimator.process({ ...WINDOW, data: crop }, f * FRAME_MS);
      motions.push(cameraMotion?.affine);
      if (f > 0) {
        // The picture moves opposite to the window.
        const [prevLeft, prevTop] = windowAt(f - 1);
        errors.push(Math.hypot(cameraMotion!.affine[2] + (left - prevLeft), cameraMotion!.affine[5] + (top - prevTop)));
      }
      // The fixed view's objects as the window sees them: moved, cut at its edges, dropped when
      // less than half is inside.
      const seen: Detection[] = [];
      for (const t of truth) {
        if (t.frame !== f) continue;
        const b = [t.box[0] - left, t.box[1] - top, t.box[2] - left, t.box[3] - top] as const;
        const v = [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(WINDOW.width, b[2]), Math.min(WINDOW.height, b[3])] as const;
        if (v[2] <= v[0] || v[3] <= v[1] || (v[2] - v[0]) * (v[3] - v[1]) < 0.5 * (b[2] - b[0]) * (b[3] - b[1])) continue;
        gtLines.push(`${f + 1},${t.id},${v[0]},${v[1]},${v[2] - v[0]},${v[3] - v[1]},1,1,1`);
        seen.push({ box: v, score: 0.9, classId: 0 });
      }
      detections.push(seen);
    }
    const gt = parseMotText(gtLines.join('\n'), 'fixed-view-tracks');
    const score = (motion: readonly (Affine | undefined)[]) => {
      const m = sequenceMetrics(countSequence(gt, parseMotText(trackedText(detections, motion), 'tracked'), 0.5));
      return { IDF1: Number(m.IDF1.toFixed(3)), IDSW: m.IDSW, MOTA: Number(m.MOTA.toFixed(3)), Recall: Number(m.Recall.toFixed(3)) };
    };
    const compensated = score(motions);
    const uncompensated = score(motions.map(() => undefined));
    errors.sort((a, b) => a - b);
    const estimate = {
      medianErrorPx: Number(errors[errors.length >> 1]!.toFixed(2)),
      p90ErrorPx: Number(errors[Math.floor(errors.length * 0.9)]!.toFixed(2)),
      maxErrorPx: Number(errors[errors.length - 1]!.toFixed(2)),
    };
    console.log('camera motion, drifting window:', JSON.stringify({ truthRows: gt.count, ids: new Set(truth.map((t) => t.id)).size, estimate, compensated, uncompensated }));

    expect(new Set(truth.map((t) => t.id)).size).toBeGreaterThanOrEqual(5);
    // The estimate follows the window (up to 29 px a frame) within half a pixel most of the time.
    expect(estimate.medianErrorPx).toBeLessThan(0.5);
    expect(estimate.p90ErrorPx).toBeLessThan(1);
    // With it, identities hold; without, the jerky motion breaks them.
    expect(compensated.IDF1).toBeGreaterThan(0.85);
    expect(compensated.IDSW).toBeLessThanOrEqual(2);
    expect(uncompensated.IDSW).toBeGreaterThan(compensated.IDSW);
    expect(uncompensated.IDF1).toBeLessThan(compensated.IDF1 - 0.2);

    // Small, fast things, as a drone sees cars (moving most of their own length a frame): the
    // same real paths and the same camera motion, each box shrunk to a quarter of its size
    // about its centre. Plain IoU loses them between frames; boxes grown by half their size
    // (matchBuffer, C-BIoU) keep them. The camera motion is applied first in both.
    const shrink = (x: number, y: number, w: number, h: number) => [x + (3 * w) / 8, y + (3 * h) / 8, w / 4, h / 4] as const;
    const smallGt = parseMotText(
      gtLines.map((line) => {
        const [f, id, x, y, w, h, ...rest] = line.split(',');
        return [f, id, ...shrink(Number(x), Number(y), Number(w), Number(h)), ...rest].join(',');
      }).join('\n'),
      'fixed-view-tracks-small',
    );
    const smallDetections = detections.map((list) =>
      list.map((d) => {
        const [x, y, w, h] = shrink(d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]);
        return { ...d, box: [x, y, x + w, y + h] as const };
      }),
    );
    const smallScore = (matchBuffer: number) => {
      const text = trackedText(smallDetections, motions, { ...DEFAULT_TRACKER_OPTIONS, matchBuffer });
      const m = sequenceMetrics(countSequence(smallGt, parseMotText(text, 'tracked-small'), 0.5));
      return { IDF1: Number(m.IDF1.toFixed(3)), IDSW: m.IDSW, MOTA: Number(m.MOTA.toFixed(3)), Recall: Number(m.Recall.toFixed(3)) };
    };
    const plain = smallScore(0);
    const buffered = smallScore(0.5);
    console.log('small fast objects (boxes a quarter size), camera motion applied:', JSON.stringify({ plainIou: plain, matchBuffer: buffered }));
    expect(buffered.IDF1).toBeGreaterThan(plain.IDF1 + 0.2);
    expect(buffered.IDF1).toBeGreaterThan(0.8);
    expect(buffered.IDSW).toBeLessThanOrEqual(plain.IDSW);
  }, 120_000);
});

describe('BoxKalman.applyAffine', () => {
  it('moves the box with the picture, and scales it with a zoom', () => {
    const kalman = new BoxKalman([100, 50, 20, 40]);
    kalman.applyAffine([1, 0, 7, 0, 1, -3]);
    expect(kalman.box()).toEqual([107, 47, 20, 40]);
    kalman.applyAffine([2, 0, 0, 0, 2, 0]);
    expect(kalman.box()).toEqual([214, 94, 40, 80]);
  });

  it('lets a track follow a camera jump that plain prediction would lose', () => {
    const detection = (x: number): Detection => ({ box: [x, 100, x + 30, 160], score: 0.9, classId: 0 });
    const run = (motion: Affine | undefined) => {
      const tracker = new ByteTracker(DEFAULT_TRACKER_OPTIONS);
      for (let f = 0; f < 5; f++) tracker.update([detection(100)], f * 40);
      // The camera jumps 40 px left: the still object appears 40 px to the right.
      return tracker.update([detection(140)], 200, motion).map((t) => t.state);
    };
    expect(run([1, 0, 40, 0, 1, 0])).toEqual(['confirmed']);
    expect(run(undefined)).toEqual(['lost', 'tentative']);
  });
});
