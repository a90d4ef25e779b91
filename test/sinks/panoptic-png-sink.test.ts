/**
 * The panoptic-png sink: what it writes (ids, JSON), that write() never waits for the disk, and
 * that its output reads back through `eval panoptic` and `eval video-panoptic` as a perfect score
 * against itself.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalSegmentationCommand } from '../../cli/eval-segmentation-command.ts';
import type { PanopticEvalResult } from '../../evaluation/segmentation/evaluate-panoptic.ts';
import type { VideoPanopticEvalResult } from '../../evaluation/segmentation/evaluate-video-panoptic.ts';
import { readPanopticPng } from '../../evaluation/segmentation/panoptic-png.ts';
import { decodePng } from '../../evaluation/segmentation/png-decode.ts';
import { packetOf, type FramePacket, type PanopticFrame, type Segment } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import type { GraphContext } from '../../pipeline/node.ts';
import { cocoSegmentIds, encodeSegmentMap } from '../../nodes/sinks/coco-segment-map.ts';
import { createPanopticPngWriter, panopticPngSink, PENDING_WRITES_WARNING, type CocoPanopticFile } from '../../nodes/sinks/panoptic-png-sink.ts';
import { tempFolder } from '../evaluation/segmentation/fixtures.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet, withRuns } from '../helpers/panoptic.ts';

const CLASS_NAMES = ['road', 'sky', 'car', 'person'];
const W = 6;
const H = 3;
const STUFF = 2 ** 24 - 256;
const UNTRACKED = 2 ** 23;

function seg(id: number, classId: number, extra: Partial<Segment> = {}): Segment {
  return {
    id,
    classId,
    className: CLASS_NAMES[classId],
    isThing: classId >= 2,
    area: 0,
    bbox: [0, 0, 1, 1],
    score: 1,
    runs: new Uint32Array(0),
    ...extra,
  };
}

/** A panoptic frame drawn as text: each character is the segment id at that pixel ('0' void). */
function panopticFrame(rows: string[], segments: Segment[]): PanopticFrame {
  const segmentMap = Uint32Array.from(rows.join(''), Number);
  return {
    width: W,
    height: H,
    classMap: new Uint8Array(W * H),
    segmentMap,
    segments: withRuns(segmentMap, W, segments),
    classes: testClassSet(CLASS_NAMES, ['car', 'person']),
  };
}

function packet(stream: string, seq: number, panoptic: PanopticFrame): FramePacket {
  const frame = { stream, seq, ptsMs: seq * 40, width: W, height: H, data: new Uint8Array(W * H * 3), capturedAtMs: 0 };
  return { ...packetOf(frame), panoptic };
}

function testContext(log = createMemoryLogger()): GraphContext {
  return { ...graphContext(['cam']), log };
}

// Segment 1: car tracked as 7. Segment 2: car without a track. Segment 3: road (stuff).
// Segment 4: a person that claims track 7 too (a collision the sink must resolve).
// Segment 5: listed, but without pixels (it must not reach the JSON).
const FRAME0 = panopticFrame(['113333', '112044', '333333'], [
  seg(1, 2, { trackId: 7 }),
  seg(2, 2),
  seg(3, 0),
  seg(4, 3, { trackId: 7 }),
  seg(5, 3, { trackId: 9 }),
]);
// The next frame: the tracked car moved right; fusion numbered the segments differently.
const FRAME1 = panopticFrame(['221133', '221133', '222222'], [seg(1, 2, { trackId: 7 }), seg(2, 0)]);

describe('panoptic-png sink', () => {
  let root: string;
  let remove: () => Promise<void>;
  beforeAll(async () => ({ dir: root, remove } = await tempFolder()));
  afterAll(() => remove());

  it('gives track ids to tracked things, stable ids to stuff, and never repeats an id in a frame', () => {
    expect(cocoSegmentIds(FRAME0.segments)).toEqual([7, UNTRACKED + 2, STUFF + 0, UNTRACKED, 9]);
    expect(cocoSegmentIds(FRAME1.segments)).toEqual([7, STUFF + 0]);
  });

  it('writes COCO panoptic PNGs and JSON that eval panoptic scores as perfect against themselves', async () => {
    const dir = path.join(root, 'run');
    const log = createMemoryLogger();
    const sink = await panopticPngSink.create({ dir }, testContext(log));
    sink.write(packet('cam', 0, FRAME0));
    // write() returned before any file could be written: encoding happens off the caller.
    expect(existsSync(path.join(dir, 'cam', '000000.png'))).toBe(false);
    sink.write(packet('cam', 1, FRAME1));
    sink.write(packetOf({ stream: 'cam', seq: 2, ptsMs: 80, width: W, height: H, data: new Uint8Array(0), capturedAtMs: 0 }));
    await sink.close();

    // A plain 8-bit RGB PNG, as panopticapi writes them.
    const png0File = path.join(dir, 'cam', '000000.png');
    expect(await decodePng(await readFile(png0File), png0File)).toMatchObject({ colorType: 2, bitDepth: 8 });
    const png0 = await readPanopticPng(png0File);
    const road = STUFF;
    expect([...png0.ids]).toEqual([
      ...[7, 7, road, road, road, road],
      ...[7, 7, UNTRACKED + 2, 0, UNTRACKED, UNTRACKED],
      ...[road, road, road, road, road, road],
    ]);
    const json = JSON.parse(await readFile(path.join(dir, 'cam', 'panoptic.json'), 'utf8')) as CocoPanopticFile;
    // The packet without a panoptic section wrote nothing.
    expect(json.images).toEqual([
      { id: '000000', file_name: '000000.png', width: W, height: H },
      { id: '000001', file_name: '000001.png', width: W, height: H },
    ]);
    expect(json.annotations[0].segments_info).toEqual([
      { id: 7, category_id: 2, iscrowd: 0, area: 4, bbox: [0, 0, 1, 1] },
      { id: UNTRACKED + 2, category_id: 2, iscrowd: 0, area: 1, bbox: [0, 0, 1, 1] },
      { id: road, category_id: 0, iscrowd: 0, area: 10, bbox: [0, 0, 1, 1] },
      { id: UNTRACKED, category_id: 3, iscrowd: 0, area: 2, bbox: [0, 0, 1, 1] },
    ]);
    expect(json.categories).toEqual([
      { id: 0, name: 'road', isthing: 0 },
      { id: 1, name: 'sky', isthing: 0 },
      { id: 2, name: 'car', isthing: 1 },
      { id: 3, name: 'person', isthing: 1 },
    ]);

    let out = '';
    const jsonFile = path.join(dir, 'cam', 'panoptic.json');
    const args = ['--gt-json', jsonFile, '--gt-dir', path.join(dir, 'cam'), '--pred-json', jsonFile, '--pred-dir', path.join(dir, 'cam')];
    expect(await evalSegmentationCommand('panoptic', args, (s) => (out += s))).toBe(0);
    const result = JSON.parse(out) as PanopticEvalResult;
    // road, car and person present: PQ 1 each; sky never present.
    expect(result.All).toEqual({ pq: 1, sq: 1, rq: 1, n: 3 });
    expect(result.images).toBe(2);

    // The stream folder is also a sequence for eval video-panoptic: the car keeps id 7 across
    // frames, so tubes match too.
    out = '';
    expect(await evalSegmentationCommand('video-panoptic', ['--gt', dir, '--pred', dir], (s) => (out += s))).toBe(0);
    const video = JSON.parse(out) as VideoPanopticEvalResult;
    expect(video.vpq).toEqual({ All: 1, Things: 1, Stuff: 1, spans: [0, 5] });
    expect(video.stq).toMatchObject({ stq: 1, aq: 1, iou: 1 });
  });

  it('never drops a frame when writes pile up, and says so in the log', async () => {
    const log = createMemoryLogger();
    const writer = createPanopticPngWriter(path.join(root, 'backlog'), log);
    const frames = PENDING_WRITES_WARNING + 4;
    for (let seq = 0; seq < frames; seq++) writer.write('cam', seq, FRAME1);
    expect(writer.pending).toBe(frames);
    expect(log.lines.filter((line) => line.includes('PNG writes pending'))).toHaveLength(1);
    expect(log.lines.find((line) => line.includes('PNG writes pending'))).toMatch(
      /warn .*panoptic-png: 9 PNG writes pending \(about 0 MB held\): encoding or the disk is slower than the pipeline; every frame is still written/,
    );
    await writer.close();
    expect(writer.pending).toBe(0);
    const json = JSON.parse(await readFile(path.join(root, 'backlog', 'cam', 'panoptic.json'), 'utf8')) as CocoPanopticFile;
    expect(json.annotations).toHaveLength(frames);
  });

  it('reports files it could not write, and leaves them out of the JSON', async () => {
    const log = createMemoryLogger();
    // A file where the stream folder should be: every write of that stream fails.
    const dir = path.join(root, 'blocked');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'cam'), 'not a folder');
    const writer = createPanopticPngWriter(dir, log);
    writer.write('cam', 0, FRAME1);
    await expect(writer.close()).rejects.toThrow(/panoptic-png: 2 files could not be written \(first: .*000000\.png: /);
    expect(log.lines.some((line) => /error .*panoptic-png: cannot write .*000000\.png/.test(line))).toBe(true);
  });

  it('holds a bounded backlog on a long run: past its bound the pipeline waits, and the JSON is written as it goes', async () => {
    const log = createMemoryLogger();
    const dir = path.join(root, 'long-run');
    // 64x48 frames: 12 KB each as RGBA. Two encoded at once, five more waiting at most.
    const width = 64;
    const height = 48;
    const frameBytes = width * height * 4;
    const limits = { inFlightBytes: 2 * frameBytes, maxQueuedBytes: 5 * frameBytes };
    const writer = createPanopticPngWriter(dir, log, limits);
    const bigMap = new Uint32Array(width * height).map((_, p) => (p % width < width / 2 ? 1 : 2));
    const big: PanopticFrame = {
      width,
      height,
      classMap: new Uint8Array(width * height),
      segmentMap: bigMap,
      segments: withRuns(bigMap, width, [seg(1, 2, { trackId: 5 }), seg(2, 0)]),
      classes: testClassSet(CLASS_NAMES, ['car', 'person']),
    };
    const frames = 300;
    let waits = 0;
    let maxHeldBytes = 0;
    let maxPending = 0;
    let partBytesMidRun = 0;
    for (let seq = 0; seq < frames; seq++) {
      writer.write('cam', seq, big);
      maxHeldBytes = Math.max(maxHeldBytes, writer.backlog.losslessBytes + writer.backlog.inFlightBytes);
      maxPending = Math.max(maxPending, writer.pending);
      // What the graph does with a sink's backpressure: the next frame waits.
      const behind = writer.backpressure();
      if (behind) {
        waits++;
        await behind;
      }
      if (seq === frames / 2) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        partBytesMidRun = (await stat(path.join(dir, 'cam', 'panoptic.json.annotations.part'))).size;
      }
    }
    // The encoder fell behind the loop (it runs on other threads): the loop was made to wait,
    // and never held more than the bounds and the frame that crossed one.
    expect(waits).toBeGreaterThan(0);
    expect(maxHeldBytes).toBeLessThanOrEqual(limits.maxQueuedBytes + limits.inFlightBytes + frameBytes);
    expect(maxPending).toBeLessThanOrEqual(limits.maxQueuedBytes / frameBytes + limits.inFlightBytes / frameBytes + 1);
    // The frames' entries were on disk long before the end.
    expect(partBytesMidRun).toBeGreaterThan(1000);

    await writer.close();
    const text = await readFile(path.join(dir, 'cam', 'panoptic.json'), 'utf8');
    const json = JSON.parse(text) as CocoPanopticFile;
    // The same file JSON.stringify gives for the whole object: one line, images, annotations, categories.
    expect(text).toBe(JSON.stringify(json));
    expect(Object.keys(json)).toEqual(['images', 'annotations', 'categories']);
    expect(json.annotations.map((a) => a.image_id)).toEqual(Array.from({ length: frames }, (_, seq) => String(seq).padStart(6, '0')));
    const areas = encodeSegmentMap(big, cocoSegmentIds(big.segments), new Uint32Array(width * height));
    expect(json.annotations[frames - 1].segments_info.map((s) => s.area)).toEqual([...areas]);
    // The parts are gone.
    expect(existsSync(path.join(dir, 'cam', 'panoptic.json.annotations.part'))).toBe(false);
    expect(existsSync(path.join(dir, 'cam', 'panoptic.json.images.part'))).toBe(false);
  });
});
