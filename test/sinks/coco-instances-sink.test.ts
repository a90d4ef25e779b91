/**
 * The coco-instances sink's writer on hand-built packets: which segments it saves, that its
 * files are COCO results and COCO ground truth, that masks are the segments' pixels, and that
 * the run scored against itself gives AP 1.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateInstances } from '../../evaluation/instance/evaluate.ts';
import { parseCocoInstances, parseCocoResults, segmentationToRle } from '../../lib/formats/coco-instances.ts';
import { rleArea, rleToColumnMajor } from '../../lib/formats/coco-rle.ts';
import { cocoInstancesSink, groundTruthPathOf, openCocoInstancesWriter } from '../../nodes/sinks/coco-instances-sink.ts';
import { packetOf, type FramePacket, type Segment, type TrackedObject } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet, withRuns } from '../helpers/panoptic.ts';

const WIDTH = 40;
const HEIGHT = 30;
const classes = testClassSet(['road', 'car', 'person'], ['car', 'person']);

/** A frame with a road, a car at column `carX` and a person: segments with their runs and boxes. */
function panopticPacket(seq: number, carX: number, trackStates?: readonly ('confirmed' | 'tentative')[]): FramePacket {
  const map = new Uint32Array(WIDTH * HEIGHT).fill(1);
  const fill = (id: number, x1: number, y1: number, x2: number, y2: number) => {
    for (let y = y1; y < y2; y++) map.fill(id, y * WIDTH + x1, y * WIDTH + x2);
  };
  fill(2, carX, 5, carX + 10, 12);
  fill(3, 30, 10, 34, 28);
  const segment = (id: number, classId: number, box: Segment['bbox'], k: number): Omit<Segment, 'runs'> => ({
    id, classId, className: classes.names[classId]!, isThing: classId > 0, area: (box[2] - box[0]) * (box[3] - box[1]), bbox: box,
    score: 0.5 + 0.1 * id,
    ...(trackStates ? { trackId: 100 + id, trackState: trackStates[k] } : {}),
  });
  const segments = withRuns(map, WIDTH, [
    { ...segment(1, 0, [0, 0, WIDTH, HEIGHT], -1), area: WIDTH * HEIGHT - 70 - 72 },
    segment(2, 1, [carX, 5, carX + 10, 12], 0),
    segment(3, 2, [30, 10, 34, 28], 1),
  ]);
  const frame = { stream: 'cam', seq, ptsMs: seq * 40, width: WIDTH, height: HEIGHT, data: new Uint8Array(0), capturedAtMs: 0 };
  const packet: FramePacket = {
    ...packetOf(frame),
    panoptic: { width: WIDTH, height: HEIGHT, classMap: new Uint8Array(0), segmentMap: map, segments, classes },
  };
  return trackStates ? { ...packet, tracks: [] as TrackedObject[] } : packet;
}

const root = mkdtempSync(path.join(tmpdir(), 'panoptes-coco-instances-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function write(name: string, packets: readonly FramePacket[]): Promise<{ results: string; gt: string }> {
  const results = path.join(root, name);
  const writer = await openCocoInstancesWriter(results, createMemoryLogger());
  for (const packet of packets) writer.write(packet);
  await writer.close();
  return { results, gt: groundTruthPathOf(results) };
}

describe('coco-instances sink', () => {
  it('writes thing segments as COCO results and ground truth, masks being the segments\' pixels', async () => {
    const { results, gt } = await write('untracked.json', [panopticPacket(0, 2), panopticPacket(1, 4)]);
    expect(gt).toBe(path.join(root, 'untracked.gt.json'));
    const pred = parseCocoResults(JSON.parse(readFileSync(results, 'utf8')), results);
    const truth = parseCocoInstances(JSON.parse(readFileSync(gt, 'utf8')), gt);
    // No tracker: every thing segment, no stuff.
    expect(pred.map((r) => [r.image_id, r.category_id, r.bbox])).toEqual([
      [1, 1, [2, 5, 10, 7]], [1, 2, [30, 10, 4, 18]], [2, 1, [4, 5, 10, 7]], [2, 2, [30, 10, 4, 18]],
    ]);
    expect(pred[0]!.score).toBeCloseTo(0.7, 6);
    expect(truth.images).toEqual([
      { id: 1, width: WIDTH, height: HEIGHT, file_name: '000000.png' },
      { id: 2, width: WIDTH, height: HEIGHT, file_name: '000001.png' },
    ]);
    expect(truth.categories).toEqual([{ id: 1, name: 'car' }, { id: 2, name: 'person' }]);
    expect(truth.annotations.map((a) => [a.id, a.area, a.iscrowd])).toEqual([[1, 70, 0], [2, 72, 0], [3, 70, 0], [4, 72, 0]]);
    // The car of frame 2, pixel by pixel: columns 4..13, rows 5..11 of the 30-row frame.
    const mask = rleToColumnMajor(segmentationToRle(pred[2]!.segmentation!, 0, 0, 'car'));
    for (let x = 0; x < WIDTH; x++) {
      for (let y = 0; y < HEIGHT; y++) expect(mask[x * HEIGHT + y], `${x},${y}`).toBe(x >= 4 && x < 14 && y >= 5 && y < 12 ? 1 : 0);
    }
    expect(rleArea(segmentationToRle(truth.annotations[1]!.segmentation!, 0, 0, 'person'))).toBe(72);
  });

  it('keeps only confirmed tracks when there is a tracker, with their track ids', async () => {
    const { results } = await write('tracked.json', [panopticPacket(4, 2, ['confirmed', 'tentative']), panopticPacket(5, 2, ['confirmed', 'confirmed'])]);
    const pred = JSON.parse(readFileSync(results, 'utf8')) as { image_id: number; track_id: number }[];
    expect(pred.map((r) => [r.image_id, r.track_id])).toEqual([[5, 102], [6, 102], [6, 103]]);
  });

  it('scores AP 1 against itself, masks and boxes', async () => {
    const { results, gt } = await write('self.json', [0, 1, 2, 3].map((seq) => panopticPacket(seq, 2 + 3 * seq)));
    for (const iouType of ['segm', 'bbox'] as const) {
      const report = evaluateInstances({ gt, pred: results, iouType });
      expect([report.AP, report.AP50, report.AP75, report.AR1, report.AR100, report.APs], iouType).toEqual([1, 1, 1, 1, 1, 1]);
      expect(report.groundTruth).toBe(8);
    }
  });

  it('writes valid, empty files when no frame came', async () => {
    const { results, gt } = await write('none.json', []);
    expect(JSON.parse(readFileSync(results, 'utf8'))).toEqual([]);
    expect(JSON.parse(readFileSync(gt, 'utf8'))).toEqual({ annotations: [], images: [], categories: [] });
  });

  it('reports a results file whose reader went away as the sink\'s failure, at once', async () => {
    // A FIFO whose reader leaves: every write after that fails with EPIPE.
    const fifo = path.join(root, 'gone.json');
    execFileSync('mkfifo', [fifo]);
    const reader = createReadStream(fifo);
    const ctx = graphContext(['cam']);
    const sink = await cocoInstancesSink.create({ path: fifo }, ctx);
    expect(sink.failure?.()).toBeUndefined();
    reader.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let seq = 0; seq < 20 && sink.failure?.() === undefined; seq++) {
      sink.write(panopticPacket(seq, 2));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(sink.failure?.()).toMatch(/gone\.json.*EPIPE/);
    await expect(sink.close()).rejects.toThrow(/gone\.json is incomplete/);
  });
});
