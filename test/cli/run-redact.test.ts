/**
 * Redaction end to end, through the real CLI on the real dashcam clip and models: with `redact`
 * before the overlay, the cars' boxes are blurred in what the viewer sends, in the H.264 recording
 * and in the overlay they both come from; the rest of the picture is as in the same run without
 * redact.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fromXywh, type Box } from '../../lib/geometry/box.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-redact-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const WIDTH = 960;
const HEIGHT = 540;
const FRAMES = 4;

/**
 * The dashcam's models and fusion, then `redact` (or nothing), then the overlay without outlines,
 * labels or panel, so that the detail measured in a box is the video's own (the colours stay).
 */
const config = (redact: boolean) => `dataDir: ${dataDir()}
sources:
  - { id: cam, type: ffmpeg, uri: replay/videos/solidWhiteRight.mp4, realtime: false }
pipeline:
  - parallel:
      - { type: semantic-segmentation, model: espnetv2-s1.5 }
      - type: instance-segmentation
        model: yolov8n-seg-320
        minScore: 0.3
        slices: { grid: [1, 1], regions: [[0.33, 0.3, 0.67, 0.9]], fullFrame: true }
  - { type: panoptic-fusion, minArea: 64 }
${redact ? '  - { type: redact, classes: [car], blurRadius: 16 }\n' : ''}  - { type: overlay, contours: false, labels: false, panel: false }
`;

interface RunOutput {
  readonly records: FrameRecord[];
  /** The viewer's JPEGs, decoded, by frame seq. */
  readonly viewer: Map<number, Uint8Array>;
  readonly recording: string;
}

/** `panoptes run` with a recording, events and a viewer, a WebSocket client collecting the video. */
async function run(name: string, redact: boolean): Promise<RunOutput> {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(file, config(redact));
  const recording = path.join(scratch, `${name}.mp4`);
  const events = path.join(scratch, `${name}.jsonl`);
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'bin/panoptes.js'), 'run', file, '--no-realtime', '--max-frames', String(FRAMES), '--record', recording, '--events', events, '--port', '0'],
    { cwd: REPO, env: { ...process.env, PANOPTES_DATA: dataDir() }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const jpegs = new Map<number, Buffer>();
  let stderr = '';
  let client: WebSocket | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const url = /viewer on (http:\/\/[\d.:]+)/.exec(stderr)?.[1];
    if (!url || client) return;
    client = new WebSocket(url.replace('http', 'ws') + '/ws');
    client.on('open', () => client!.send(JSON.stringify({ type: 'subscribe', topics: ['video'] })));
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const headerLength = data.readUInt32BE(0);
      const header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')) as { seq: number };
      jpegs.set(header.seq, Buffer.from(data.subarray(4 + headerLength)));
    });
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  client?.close();
  expect(code, stderr).toBe(0);
  expect(stderr).toContain(`cam: ${FRAMES} frames processed of ${FRAMES} decoded`);
  const viewer = new Map<number, Uint8Array>();
  for (const [seq, jpeg] of jpegs) {
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([WIDTH, HEIGHT, 3]);
    viewer.set(seq, new Uint8Array(data));
  }
  const records = readFileSync(events, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as FrameRecord);
  return { records, viewer, recording };
}

/** Frame `index` of an MP4, decoded by ffmpeg to RGB24. */
function decodeMp4(file: string, index: number): Uint8Array {
  return new Uint8Array(
    execFileSync(
      ffmpegPath().path,
      ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index})`, '-vframes', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      { maxBuffer: WIDTH * HEIGHT * 3 + 1024 },
    ),
  );
}

/**
 * Detail in the boxes: the mean difference of grey between neighbouring pixels (right and below),
 * over all the boxes' pixels. A blur takes most of it away; the overlay's even tint does not.
 */
function detail(rgb: Uint8Array, boxes: readonly Box[]): number {
  const grey = (x: number, y: number) => {
    const o = (y * WIDTH + x) * 3;
    return rgb[o]! + rgb[o + 1]! + rgb[o + 2]!;
  };
  let sum = 0;
  let n = 0;
  for (const [x1, y1, x2, y2] of boxes) {
    for (let y = Math.max(0, y1); y < Math.min(HEIGHT - 1, y2); y++) {
      for (let x = Math.max(0, x1); x < Math.min(WIDTH - 1, x2); x++) {
        const here = grey(x, y);
        sum += Math.abs(grey(x + 1, y) - here) + Math.abs(grey(x, y + 1) - here);
        n++;
      }
    }
  }
  return sum / (3 * n);
}

/** Mean absolute difference of two RGB frames over `[x1, x2) x [y1, y2)`. */
function meanDifference(a: Uint8Array, b: Uint8Array, [x1, y1, x2, y2]: Box): number {
  let sum = 0;
  for (let y = y1; y < y2; y++) for (let o = (y * WIDTH + x1) * 3, end = (y * WIDTH + x2) * 3; o < end; o++) sum += Math.abs(a[o]! - b[o]!);
  return sum / ((x2 - x1) * (y2 - y1) * 3);
}

/** The road below every car (the cars of these frames end above y 380, padding included). */
const ROAD: Box = [0, 400, WIDTH, HEIGHT];

describe('panoptes run with redact before the overlay', () => {
  it('shows the cars blurred in the viewer and the recording, and the rest of the picture as without it', async () => {
    const [redacted, plain] = await Promise.all([run('redacted', true), run('plain', false)]);

    // The cars of each frame, as the redacted run's events list them (the models saw the picture
    // before redact, so the plain run finds the same ones).
    const carsOf = (seq: number): Box[] =>
      redacted.records.find((r) => r.seq === seq)!.segments.filter((s) => s.isThing && s.className === 'car').map((s) => fromXywh(...s.bbox));
    // The middle of each car's box (half its width and height): the car itself, away from the
    // edges of its colour, which the overlay draws sharp in both runs.
    const middles = (seq: number): Box[] =>
      carsOf(seq).map(([x1, y1, x2, y2]) => [Math.round(x1 + (x2 - x1) / 4), Math.round(y1 + (y2 - y1) / 4), Math.round(x2 - (x2 - x1) / 4), Math.round(y2 - (y2 - y1) / 4)]);
    for (let seq = 0; seq < FRAMES; seq++) {
      expect(carsOf(seq).length, `cars in frame ${seq}`).toBeGreaterThanOrEqual(3);
      expect(carsOf(seq).every((box) => box[3] < ROAD[1] - 20)).toBe(true);
    }
    expect(plain.records.map((r) => r.segments.length)).toEqual(redacted.records.map((r) => r.segments.length));

    // The viewer: every frame both clients saw.
    const seen = [...redacted.viewer.keys()].filter((seq) => plain.viewer.has(seq));
    expect(seen.length).toBeGreaterThanOrEqual(1);
    for (const seq of seen) {
      const [blurred, sharpOne] = [redacted.viewer.get(seq)!, plain.viewer.get(seq)!];
      // Measured: about a sixth of the detail is left (blurred 1.1-1.4, sharp 7.4-13).
      expect(detail(blurred, middles(seq)), `viewer frame ${seq}`).toBeLessThan(0.35 * detail(sharpOne, middles(seq)));
      // JPEG blocks away from the boxes are coded alike: the road is the very same picture.
      expect(meanDifference(blurred, sharpOne, ROAD)).toBe(0);
    }

    // The recording, decoded back: the same blur, the same road.
    for (let seq = 0; seq < FRAMES; seq++) {
      const [blurred, sharpOne] = [decodeMp4(redacted.recording, seq), decodeMp4(plain.recording, seq)];
      // Measured: blurred 0.8-1.2, sharp 6.0-6.6 (H.264 softens both).
      expect(detail(blurred, middles(seq)), `recorded frame ${seq}`).toBeLessThan(0.35 * detail(sharpOne, middles(seq)));
      // The encoder spends its bits a little differently, nothing more (measured under 0.1).
      expect(meanDifference(blurred, sharpOne, ROAD)).toBeLessThan(1);
    }
  });
});
