/**
 * The crowd-density node's count pinned against the reference implementation's figure for the
 * same input: replay-data/mcnn-reference/reference.json, written once by reference.py next to it
 * (svishwa/crowdcount-mcnn's test-time preprocessing, `cv2.imread(path, 0)` as float32 0..255, run
 * with OpenCV DNN rather than onnxruntime; see the script for the command and versions).
 *
 * The inputs are MOT17-02-FRCNN frame 1 at its native 1920x1080 and the node's band
 * [0, 0.35, 1, 0.75] at its native 1920x432, so neither side resamples: with `inputWidth: 1920`
 * the node's resize is the identity. What is left to differ is the grey conversion (libjpeg's Y
 * plane in the reference; luma 0.299/0.587/0.114 of sharp's RGB decode in the node) and float
 * summation order. reference.json also holds the count from OpenCV's own 0.299/0.587/0.114
 * conversion: on these inputs the two greys move the count by at most 0.34 (0.29%, model B's frame;
 * 0.1, 0.07%, for model A's). Measured when this was written, node vs reference: A frame 138.003 vs
 * 138.027, A band 41.013 vs 40.991, B frame 117.178 vs 116.833 (0.30%, the grey conversion: B with
 * OpenCV's luma gives 117.167). The tolerance is 1% of the reference count (1.4 people on 138):
 * about three times the grey effect, and far below anything that matters for a count (a /255, a
 * BGR/RGB mix-up, a resize or stride error, a scale factor all move it by tens of percent).
 * Model A (the node's default) is pinned; reference.json holds B's figures too.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { crowdDensity } from '../../nodes/heads/crowd-density.ts';
import type { ModelSession } from '../../nodes/inference/model-session.ts';
import { packetOf, type Frame } from '../../pipeline/frame.ts';
import { chainContext, dataDir, type TestChainContext } from '../helpers/data-dir.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface ReferenceCount {
  readonly count: number;
  readonly densityShape: readonly number[];
  readonly countWithCvtColorGrey: number;
}
interface Reference {
  readonly image: { readonly file: string; readonly sha256: string; readonly size: readonly [number, number] };
  readonly models: Record<string, { readonly file: string; readonly sha256: string }>;
  readonly inputs: Record<string, { readonly area: readonly [number, number, number, number] | null } & Record<string, ReferenceCount | unknown>>;
}

const reference = JSON.parse(readFileSync(path.join(repoRoot, 'replay-data/mcnn-reference/reference.json'), 'utf8')) as Reference;
const imagePath = path.join(dataDir(), reference.image.file);
const TOLERANCE = 0.01;

const contexts: TestChainContext[] = [];

afterAll(async () => {
  for (const ctx of contexts) {
    for (const id of ['mcnn-shanghaitech-a']) {
      const session = await ctx.shared<ModelSession | undefined>(`model:${id}`, async () => undefined);
      await session?.release();
    }
  }
});

describe.skipIf(!existsSync(imagePath))('crowd-density against the reference implementation (reference.json)', () => {
  const cases = Object.entries(reference.inputs).flatMap(([name, input]) =>
    ['mcnn-shanghaitech-a'].map((model) => ({ name, model, area: input.area, expected: input[model] as ReferenceCount })),
  );

  it.each(cases)('$model on $name: the count is the reference figure within 1%', async ({ model, area, expected }) => {
    const { data, info } = await sharp(imagePath).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [width, height] = reference.image.size;
    expect([info.width, info.height]).toEqual([width, height]);
    // The node's region for the reference's pixel area (they must land on the same rows).
    const region = area ? ([area[0] / width, area[1] / height, area[2] / width, area[3] / height] as const) : ([0, 0, 1, 1] as const);
    const ctx = chainContext({ label: 'crowd-density' });
    contexts.push(ctx);
    const node = await crowdDensity.create(crowdDensity.options.parse({ model, region, inputWidth: width }), ctx);
    const frame: Frame = { stream: 'test', seq: 0, ptsMs: 0, width, height, data: new Uint8Array(data), capturedAtMs: 0 };
    const [out] = await lastValueFrom(from([packetOf(frame)]).pipe(node, toArray()));
    const density = out!.density!;
    // Same input size as the reference: its density map is [1, 1, H/4, W/4].
    expect([1, 1, density.height, density.width]).toEqual(expected.densityShape);
    expect(Math.abs(density.count - expected.count)).toBeLessThan(TOLERANCE * expected.count);
  });
});
