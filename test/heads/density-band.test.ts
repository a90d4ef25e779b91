/**
 * The crowd-density count's expected-error band and what is built from it, without a model: the
 * per-model figure in models/catalog.yaml, the band of an estimate, the people per zone, the
 * byte grid the dashboard and Foxglove receive, and the text of the overlay, the events and the
 * viewer's counts and density messages.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sumZone, zoneDensities } from '../../nodes/analytics/zone-density.ts';
import { crowdDensity, densityBand, densityEstimate } from '../../nodes/heads/crowd-density.ts';
import { DEFAULT_CATALOG_FILE, findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { densityText, drawPanel } from '../../nodes/render/annotate.ts';
import { buildCountsMessage } from '../../nodes/sinks/foxglove/counts-message.ts';
import { densityGrid, quantizeDensity } from '../../nodes/sinks/density-grid.ts';
import { frameRecord } from '../../nodes/sinks/frame-record.ts';
import { countsMessage, densityMessage, readBinaryMessage } from '../../nodes/sinks/viewer/frame-messages.ts';
import type { DensityHeader } from '../../servers/viewer-protocol/protocol.ts';
import { ConfigError } from '../../pipeline/config/validation.ts';
import { packetOf, type DensityEstimate, type FrameAnalytics, type FramePacket } from '../../pipeline/frame.ts';
import type { ZoneTotals } from '../../pipeline/analytics-types.ts';

/** An 8x4 map over the right half of the frame's top half: 1 person per cell in column 6, 0.5 in row 0. */
function estimate(overrides: Partial<DensityEstimate> = {}): DensityEstimate {
  const width = 8;
  const height = 4;
  const map = new Float32Array(width * height);
  for (let y = 0; y < height; y++) map[y * width + 6] = 1;
  for (let x = 0; x < width; x++) map[x] = (map[x] ?? 0) + 0.5;
  const scale = overrides.scale ?? 2;
  const expectedError = overrides.expectedError ?? 0.25;
  let sum = 0;
  for (const v of map) sum += v;
  return {
    model: 'mcnn-shanghaitech-a',
    count: scale * sum,
    scale,
    expectedError,
    ...densityBand(scale * sum, expectedError),
    map,
    width,
    height,
    region: [0.5, 0, 1, 0.5],
    seq: 30,
    ageMs: 0,
    ...overrides,
  };
}

/** The zone over map columns 6 and 7 (x 0.875..1 of the frame), all rows of the region. */
const RIGHT_ZONE: ZoneTotals = {
  name: 'gate',
  polygon: [[0.87, 0], [1, 0], [1, 0.5], [0.87, 0.5]],
  occupancy: { person: 3 },
  entered: { person: 5 },
};
/** Half inside the region (x 0.25..0.75): map columns 0-3 of the region's 8. */
const HALF_OUT_ZONE: ZoneTotals = { name: 'half out', polygon: [[0.25, 0], [0.75, 0], [0.75, 0.5], [0.25, 0.5]], occupancy: {}, entered: {} };

function withAnalytics(density: DensityEstimate, zones: readonly ZoneTotals[]): FramePacket {
  const analytics: FrameAnalytics = { counts: { person: 4 }, coverage: {}, unique: { person: 9 }, lines: [], zones, events: [], crowd: { persons: 4 } };
  const frame = { stream: 'plaza', seq: 31, ptsMs: 1240, width: 640, height: 360, data: new Uint8Array(0), capturedAtMs: 1_700_000_000_000 };
  return { ...packetOf(frame), analytics, density: { ...density, ageMs: 40 } };
}

describe('the expected error of a density model', () => {
  it('is one number per model in models/catalog.yaml: MCNN A 26% (MAE 110 of ~433), B 20% (MAE 25 of ~123)', () => {
    const catalog = loadModelCatalog();
    expect(findModel(catalog, 'mcnn-shanghaitech-a').expectedError).toBe(0.26);
    expect(findModel(catalog, 'mcnn-shanghaitech-b').expectedError).toBe(0.2);
    // Models without one (the detectors) have none.
    expect(findModel(catalog, 'yolox-nano-416').expectedError).toBeUndefined();
  });

  it('refuses a catalog figure outside 0..1, naming the file and the key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'catalog-'));
    const file = path.join(dir, 'catalog.yaml');
    const good = readFileSync(DEFAULT_CATALOG_FILE, 'utf8');
    writeFileSync(file, good.replace('expectedError: 0.26', 'expectedError: 26'));
    expect(() => loadModelCatalog(file)).toThrow(ConfigError);
    expect(() => loadModelCatalog(file)).toThrow(/catalog\.yaml[\s\S]*models\.mcnn-shanghaitech-a\.expectedError/);
  });

  it('is a node option too, a fraction: 0 and 1 or more are refused', () => {
    expect(crowdDensity.options.parse({ expectedError: 0.4 }).expectedError).toBe(0.4);
    expect(crowdDensity.options.parse({}).expectedError).toBeUndefined();
    for (const bad of [0, 1, 26, -0.1]) expect(crowdDensity.options.safeParse({ expectedError: bad }).success).toBe(false);
  });

  it('makes the band of an estimate once, when the run ends: count * (1 -/+ error)', () => {
    const output = { dims: [1, 1, 2, 2], data: Float32Array.from([100, 200, 300, 424]) } as const;
    const estimate = densityEstimate('mcnn-shanghaitech-a', output as never, 1.5, 0.26, [0, 0, 1, 1], 12);
    expect(estimate.count).toBeCloseTo(1536, 6);
    expect(estimate.expectedError).toBe(0.26);
    expect(estimate.low).toBeCloseTo(1536 * 0.74, 6);
    expect(estimate.high).toBeCloseTo(1536 * 1.26, 6);
    expect(densityBand(1024, 0.26)).toEqual({ low: 1024 * 0.74, high: 1024 * 1.26 });
  });
});

describe('density per zone', () => {
  it('sums the calibrated map over the cells whose centres are inside the zone, with the band', () => {
    const density = estimate();
    // Columns 6 and 7: 4 people in column 6, 0.5 in each of the two row-0 cells; times scale 2.
    const gate = sumZone(density, RIGHT_ZONE);
    expect(gate.count).toBeCloseTo(2 * (4 + 1), 6);
    expect(gate.low).toBeCloseTo(10 * 0.75, 6);
    expect(gate.high).toBeCloseTo(10 * 1.25, 6);
    expect(gate.covered).toBeGreaterThan(0.95);
    // Half of this zone is outside the region: only the inside half is counted, and it says so.
    const half = sumZone(density, HALF_OUT_ZONE);
    expect(half.count).toBeCloseTo(2 * 0.5 * 4, 6);
    expect(half.covered).toBeCloseTo(0.5, 2);
  });

  it('sums once per estimate, however many ask, and again for a new estimate', () => {
    const density = estimate();
    const first = zoneDensities(density, [RIGHT_ZONE, HALF_OUT_ZONE]);
    // A later frame carries the same estimate (same map, new age): the same sums, not new ones.
    const carried = zoneDensities({ ...density, ageMs: 400 }, [RIGHT_ZONE, HALF_OUT_ZONE]);
    expect(carried[0]).toBe(first[0]);
    expect(carried[1]).toBe(first[1]);
    // The next run's map: summed again.
    const next = estimate({ seq: 45 });
    next.map[6] = 11; // was 1.5
    expect(zoneDensities(next, [RIGHT_ZONE])[0]!.count).toBeCloseTo(2 * (5 + 9.5), 6);
  });
});

describe('the density grid sent to the dashboard and Foxglove', () => {
  it('is bytes scaled to the densest cell, with the people that cell holds', () => {
    const grid = densityGrid(estimate());
    expect([grid.width, grid.height, grid.block]).toEqual([8, 4, 1]);
    // The densest cell: column 6 of row 0 (1.5), 255; its people calibrated (scale 2): 3.
    expect(grid.maxPerCell).toBeCloseTo(3, 6);
    expect(grid.data[6]).toBe(255);
    expect(grid.data[1 * 8 + 6]).toBe(Math.round((1 / 1.5) * 255));
    expect(grid.data[1 * 8 + 0]).toBe(0);
    expect(densityGrid(estimate())).not.toBe(grid);
  });

  it('stays small at any input size: a 1920-wide run (480x270 cells) is summed in 3x3 blocks to 160x90', () => {
    const map = new Float32Array(480 * 270).fill(0.01);
    map[269 * 480 + 479] = 5;
    const grid = quantizeDensity(map, 480, 270);
    expect([grid.width, grid.height, grid.block, grid.data.length]).toEqual([160, 90, 3, 160 * 90]);
    expect(grid.maxPerCell).toBeCloseTo(5 + 8 * 0.01, 4);
    expect(grid.data[160 * 90 - 1]).toBe(255);
    expect(grid.data[0]).toBe(Math.round(((9 * 0.01) / 5.08) * 255));
  });
});

describe('the band wherever the count is shown', () => {
  it('overlay: the count as a range', () => {
    expect(densityText({ count: 1024, low: 1024 * 0.74, high: 1024 * 1.26 })).toBe('~1024 (likely 758-1290)');
    // The panel draws it in its own line: more rows of panel pixels than without a density.
    const paintedRows = (withDensity: boolean) => {
      const canvas = { width: 640, height: 120, data: new Uint8Array(640 * 120 * 3) };
      drawPanel(canvas, undefined, { person: 4 }, withDensity ? { count: 1024, low: 757.8, high: 1290.2, ageMs: 400 } : undefined);
      let rows = 0;
      for (let y = 0; y < canvas.height; y++) if (canvas.data.subarray(y * 640 * 3, (y + 1) * 640 * 3).some((v) => v > 0)) rows++;
      return rows;
    };
    expect(paintedRows(true)).toBeGreaterThan(paintedRows(false) + 10);
  });

  it('events and the viewer counts: count, low, high and the error beside it; per zone beside the occupancy', () => {
    const packet = withAnalytics(estimate(), [RIGHT_ZONE]);
    const record = frameRecord(packet);
    expect(record.density).toEqual({ count: 16, low: 12, high: 20, expectedError: 0.25, ageMs: 40 });
    expect(record.zones!.gate).toEqual({ occupancy: { person: 3 }, entered: { person: 5 }, density: { count: 10, low: 7.5, high: 12.5 } });
    const counts = JSON.parse(countsMessage(packet)) as { density: unknown; zones: Record<string, { density: unknown }> };
    expect(counts.density).toEqual(record.density);
    expect(counts.zones.gate!.density).toEqual({ count: 10, low: 7.5, high: 12.5 });
  });

  it('Foxglove counts: the estimate with its band, and each zone\'s', () => {
    const message = buildCountsMessage(withAnalytics(estimate(), [RIGHT_ZONE]));
    expect(message.density).toEqual({ model: 'mcnn-shanghaitech-a', count: 16, low: 12, high: 20, expectedError: 0.25, seq: 30, ageMs: 40 });
    expect(message.zones[0]).toMatchObject({ name: 'gate', occupancyTotal: 3, density: { count: 10, low: 7.5, high: 12.5 } });
    // No density node: no density in the message.
    const bare = withAnalytics(estimate(), []);
    delete (bare as { density?: unknown }).density;
    expect(buildCountsMessage(bare).density).toBeUndefined();
  });

  it('the viewer\'s density message: the estimate, the region, and the grid as its payload', () => {
    const message = densityMessage(withAnalytics(estimate(), []), 1_700_000_000_500)!;
    const { header, payload } = readBinaryMessage<DensityHeader>(message);
    expect(header).toMatchObject({ type: 'density', stream: 'plaza', seq: 30, ptsMs: 1200, count: 16, low: 12, high: 20, expectedError: 0.25, region: [0.5, 0, 1, 0.5], width: 8, height: 4 });
    expect(payload).toHaveLength(32);
    expect(payload[6]).toBe(255);
  });
});
