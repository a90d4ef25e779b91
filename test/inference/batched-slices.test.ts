/**
 * Slices of one frame run as one batch when the model's batch dimension is dynamic, and each
 * slice's outputs come back as if it had run alone. The models in the data directory all have
 * batch 1, so the model here is a tiny one written for the test (tiny-onnx.ts), run by the real
 * onnxruntime on its real thread.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import type { SliceRegion } from '../../nodes/inference/slices.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { testClassSet } from '../helpers/panoptic.ts';
import { rowMeanModel } from './tiny-onnx.ts';

const SIZE = 8;

describe('slices as one batch', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-batch-'));
  let session: ModelSession;

  beforeAll(async () => {
    const weights = rowMeanModel(SIZE, SIZE);
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'models/row-mean.onnx'), weights);
    const entry: ModelEntry = {
      id: 'row-mean',
      description: 'test model',
      file: 'models/row-mean.onnx',
      sha256: createHash('sha256').update(weights).digest('hex'),
      license: 'test',
      input: { name: 'images', width: SIZE, height: SIZE, colorOrder: 'rgb', resize: 'stretch', pad: 0, normalize: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }, dynamic: false },
      outputs: ['output0'],
      decoder: 'yolo-detect',
      boxUnits: 'pixels',
      classes: testClassSet(['a'], ['a']),
    };
    session = await openModelSession(entry, dir, ['cpu'], createMemoryLogger());
  });

  afterAll(async () => {
    await session.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the slices in one model run, each slice reading its own part of the frame', async () => {
    expect(session.batchesSlices).toBe(true);
    // A 16x8 frame: red is the column index, green the row, blue 7.
    const frame: RgbImage = { width: 16, height: 8, data: new Uint8Array(16 * 8 * 3) };
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) frame.data.set([x, y, 7], (y * 16 + x) * 3);
    const regions: SliceRegion[] = [
      { x: 0, y: 0, width: 8, height: 8 },
      { x: 8, y: 0, width: 8, height: 8 },
      { x: 4, y: 0, width: 8, height: 8 },
    ];
    const batched = await session.runSlices(frame, regions);
    expect(batched.runMs).toHaveLength(1);
    expect(batched.slices).toHaveLength(3);
    regions.forEach((region, i) => {
      const out = batched.slices[i]!.output0!;
      expect(out.dims).toEqual([1, 3, SIZE]);
      const data = out.data as Float32Array;
      // Row means: red is the mean column of the slice, green the row, blue 7.
      for (let y = 0; y < SIZE; y++) {
        expect(data[y]).toBeCloseTo(region.x + 3.5, 4);
        expect(data[SIZE + y]).toBeCloseTo(y, 4);
        expect(data[2 * SIZE + y]).toBeCloseTo(7, 4);
      }
    });
    // The same as each slice alone.
    for (const [i, region] of regions.entries()) {
      const alone = await session.runSlices(frame, [region]);
      expect(Array.from(alone.slices[0]!.output0!.data)).toEqual(Array.from(batched.slices[i]!.output0!.data));
    }
  });
});
