/**
 * The crowd-density node with the real MCNN on a real frame: MOT17-02-FRCNN frame 1, a Venice
 * square at 1920x1080 with 22 pedestrians annotated in gt/gt.txt (class 1, considered). Their
 * heads lie between rows 418 and 484; a big tree fills the top of the frame.
 *
 * Measured here (model A): 23.4 on the band [0, 0.35, 1, 0.75] at 960x216; 20.2 on the whole frame
 * at 640x360, but 35 at 960x540 and 138 at 1920x1080 (mass on the tree's leaves). The checks
 * allow ±30% around the annotated count, about what PROVENANCE.md section 11 and these runs say
 * the model is worth.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cropRgb, crowdDensity, DensitySchedule, modelInputSize, regionPixels } from '../../nodes/heads/crowd-density.ts';
import type { ModelSession } from '../../nodes/inference/model-session.ts';
import { createPreprocessor } from '../../nodes/inference/preprocess.ts';
import { frameRecord } from '../../nodes/sinks/frame-record.ts';
import { ConfigError } from '../../pipeline/config/validation.ts';
import { packetOf, type FramePacket, type Frame } from '../../pipeline/frame.ts';
import { chainContext, dataDir, type TestChainContext } from '../helpers/data-dir.ts';

const SEQUENCE = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN');
const HEADS_BAND: [number, number, number, number] = [0, 0.35, 1, 0.75];

/** Pedestrians annotated in frame 1 of the sequence (class 1, considered). */
function annotatedPedestrians(): number {
  return readFileSync(path.join(SEQUENCE, 'gt/gt.txt'), 'utf8')
    .split('\n')
    .map((line) => line.split(',').map(Number))
    .filter(([frame, , , , , , considered, cls]) => frame === 1 && considered === 1 && cls === 1).length;
}

let image: { width: number; height: number; data: Uint8Array };

function packet(seq: number, ptsMs = seq * 40, data = image.data): FramePacket {
  const frame: Frame = { stream: 'test', seq, ptsMs, width: image.width, height: image.height, data, capturedAtMs: 0 };
  return packetOf(frame);
}

const contexts: TestChainContext[] = [];
function context(overrides: Parameters<typeof chainContext>[0] = {}): TestChainContext {
  const ctx = chainContext({ label: 'crowd-density', ...overrides });
  contexts.push(ctx);
  return ctx;
}

async function runLossless(options: Record<string, unknown>, packets: readonly FramePacket[]): Promise<FramePacket[]> {
  const node = await crowdDensity.create(crowdDensity.options.parse(options), context());
  return lastValueFrom(from(packets).pipe(node, toArray()));
}

beforeAll(async () => {
  const { data, info } = await sharp(path.join(SEQUENCE, 'img1/000001.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  image = { width: info.width, height: info.height, data: new Uint8Array(data) };
});

afterAll(async () => {
  for (const ctx of contexts) {
    for (const id of ['mcnn-shanghaitech-a', 'mcnn-shanghaitech-b']) {
      const session = await ctx.shared<ModelSession | undefined>(`model:${id}`, async () => undefined);
      await session?.release();
    }
  }
});

describe('crowd-density with MCNN on MOT17-02 frame 1', () => {
  it('counts about the annotated pedestrians on the band where their heads are', async () => {
    const annotated = annotatedPedestrians();
    expect(annotated).toBe(22);
    const [out] = await runLossless({ model: 'mcnn-shanghaitech-a', region: HEADS_BAND, inputWidth: 960 }, [packet(0)]);
    const density = out!.density!;
    expect(density.model).toBe('mcnn-shanghaitech-a');
    // 960 wide, 216 high (1920x432 kept in ratio), stride 4.
    expect([density.width, density.height]).toEqual([240, 54]);
    expect(density.region).toEqual(HEADS_BAND);
    expect(density.count).toBeGreaterThan(annotated * 0.7);
    expect(density.count).toBeLessThan(annotated * 1.3);
    expect(density.seq).toBe(0);
    expect(density.ageMs).toBe(0);
    expect(out!.timings['crowd-density']).toBeGreaterThan(0);
  });

  it('puts most of the mass on the rows where the heads are (whole frame, 640 wide)', async () => {
    const [out] = await runLossless({ model: 'mcnn-shanghaitech-a', inputWidth: 640 }, [packet(0)]);
    const { map, width, height, count } = out!.density!;
    expect([width, height]).toEqual([160, 90]);
    expect(count).toBeGreaterThan(22 * 0.7);
    expect(count).toBeLessThan(22 * 1.3);
    // Mass per quarter of the frame's height: the heads (rows 418-484 of 1080) are in the second.
    const quarters = [0, 0, 0, 0];
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) quarters[Math.floor((4 * y) / height)]! += map[y * width + x]!;
    expect(quarters.indexOf(Math.max(...quarters))).toBe(1);
    expect(quarters[1]! / count).toBeGreaterThan(0.5);
  });

  it('applies the per-camera scale: count = scale * sum of the map', async () => {
    const [plain] = await runLossless({ region: HEADS_BAND, inputWidth: 640 }, [packet(0)]);
    const [scaled] = await runLossless({ region: HEADS_BAND, inputWidth: 640, scale: 1.5 }, [packet(0)]);
    const sum = plain!.density!.map.reduce((a, v) => a + v, 0);
    expect(plain!.density!.count).toBeCloseTo(sum, 3);
    expect(scaled!.density!.scale).toBe(1.5);
    expect(scaled!.density!.count).toBeCloseTo(1.5 * sum, 3);
    const record = frameRecord(scaled!);
    const round1 = (v: number) => Math.round(v * 10) / 10;
    const { count } = scaled!.density!;
    expect(record.density).toEqual({ count: round1(count), low: round1(count * 0.74), high: round1(count * 1.26), expectedError: 0.26, ageMs: 0 });
  });

  it("carries the band: the catalog's expected error for the model (A 0.26, B 0.20), or the node's own", async () => {
    const [a] = await runLossless({ region: HEADS_BAND, inputWidth: 320 }, [packet(0)]);
    const [b] = await runLossless({ model: 'mcnn-shanghaitech-b', region: HEADS_BAND, inputWidth: 320 }, [packet(0)]);
    const [own] = await runLossless({ region: HEADS_BAND, inputWidth: 320, expectedError: 0.4 }, [packet(0)]);
    for (const [out, error] of [[a, 0.26], [b, 0.2], [own, 0.4]] as const) {
      const density = out!.density!;
      expect(density.expectedError).toBe(error);
      expect(density.low).toBeCloseTo(density.count * (1 - error), 6);
      expect(density.high).toBeCloseTo(density.count * (1 + error), 6);
    }
  });

  it('runs on every Nth frame of a lossless stream and carries the last estimate with its age between', async () => {
    // Frames 0-4 at 40 ms; frame 2's pixels are black, so its run is told apart by its count.
    const black = new Uint8Array(image.data.length);
    const packets = [packet(0), packet(1), packet(2, 80, black), packet(3), packet(4)];
    const out = await runLossless({ region: HEADS_BAND, inputWidth: 320, everyFrames: 2 }, packets);
    const seen = out.map((p) => ({ seq: p.density!.seq, ageMs: p.density!.ageMs }));
    expect(seen).toEqual([
      { seq: 0, ageMs: 0 },
      { seq: 0, ageMs: 40 },
      { seq: 2, ageMs: 0 },
      { seq: 2, ageMs: 40 },
      { seq: 4, ageMs: 0 },
    ]);
    expect(out[1]!.density!.count).toBe(out[0]!.density!.count);
    expect(out[2]!.density!.count).toBeLessThan(out[0]!.density!.count / 4);
    expect(out[3]!.density!.count).toBe(out[2]!.density!.count);
  });

  it('does not hold a live stream: frames pass while the run works on its own copy of the frame', async () => {
    const ctx = context({ lossless: false });
    const node = await crowdDensity.create(crowdDensity.options.parse({ region: HEADS_BAND, inputWidth: 320, everyMs: 10_000 }), ctx);
    const input = new Subject<FramePacket>();
    const out: FramePacket[] = [];
    node(input).subscribe((p) => out.push(p));
    const first = new Uint8Array(image.data);
    input.next(packet(0, 0, first));
    await new Promise((resolve) => setImmediate(resolve));
    // The frame left the stage before its run ended; its buffer is reused at once, as a pool would.
    expect(out).toHaveLength(1);
    expect(out[0]!.density).toBeUndefined();
    first.fill(0);
    // Later frames come out as they go in, without an estimate until the run is done.
    let seq = 1;
    while (!out.at(-1)!.density) {
      input.next(packet(seq, seq * 40));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(out).toHaveLength(seq + 1);
      seq++;
    }
    const density = out.at(-1)!.density!;
    expect(density.seq).toBe(0);
    expect(density.ageMs).toBe((seq - 1) * 40);
    // Counted on the copy (the crowd), not on the zeroed buffer.
    expect(density.count).toBeGreaterThan(5);
    input.complete();
    expect(ctx.metrics.snapshot().find((s) => s.stream === 'test')?.errors ?? 0).toBe(0);
  });

  it('refuses an empty region and a schedule given twice, saying how to fix them', async () => {
    await expect(crowdDensity.create(crowdDensity.options.parse({ region: [0.5, 0, 0.5, 1] }), context())).rejects.toThrow(
      /region \[0.5, 0, 0.5, 1\] is empty: give \[x1, y1, x2, y2\] with x1 < x2/,
    );
    await expect(crowdDensity.create(crowdDensity.options.parse({ everyFrames: 5, everyMs: 200 }), context())).rejects.toThrow(ConfigError);
  });
});

describe('DensitySchedule', () => {
  it('every N frames counts by seq, so dropped frames count too', () => {
    const schedule = new DensitySchedule({ frames: 3 });
    const ran: number[] = [];
    for (const seq of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      if (schedule.due(seq, seq * 40)) {
        schedule.ran(seq, seq * 40);
        ran.push(seq);
      }
    }
    expect(ran).toEqual([0, 3, 6, 9]);
    const dropping = new DensitySchedule({ frames: 3 });
    const ranDropping = [0, 1, 4, 5, 6, 7, 11].filter((seq) => dropping.due(seq, 0) && (dropping.ran(seq, 0), true));
    expect(ranDropping).toEqual([0, 4, 7, 11]);
  });

  it('every N ms counts stream time', () => {
    const schedule = new DensitySchedule({ ms: 500 });
    const pts = [0, 100, 450, 500, 900, 1001, 1600];
    expect(pts.filter((ms, seq) => schedule.due(seq, ms) && (schedule.ran(seq, ms), true))).toEqual([0, 500, 1001, 1600]);
  });
});

describe('crowd-density geometry', () => {
  it('sizes the model input to the region in multiples of 4, keeping its aspect ratio', () => {
    expect(regionPixels(HEADS_BAND, 1920, 1080)).toEqual([0, 378, 1920, 810]);
    expect(modelInputSize([0, 0, 1920, 1080], 961)).toEqual({ width: 960, height: 540 });
    expect(modelInputSize([0, 378, 1920, 810], 960)).toEqual({ width: 960, height: 216 });
    expect(modelInputSize([0, 0, 1920, 1080], 642)).toEqual({ width: 644, height: 364 });
  });

  it('crops the region out of an RGB frame', () => {
    const frame = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
    expect([...cropRgb(frame, [1, 1, 3, 2]).data]).toEqual([12, 13, 14, 15, 16, 17]);
  });

  it('feeds grey models OpenCV luma on the raw 0..255 scale', () => {
    const prepare = createPreprocessor({
      name: 'input',
      width: 2,
      height: 1,
      colorOrder: 'grey',
      resize: 'stretch',
      pad: 0,
      dynamic: true,
      normalize: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
    });
    const { tensor } = prepare({ width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 10, 20, 30]) });
    expect(tensor).toHaveLength(2);
    expect(tensor[0]).toBeCloseTo(0.299 * 255, 3);
    expect(tensor[1]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30, 3);
  });
});
