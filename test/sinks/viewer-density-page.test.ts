/**
 * The dashboard's crowd-density view in a real headless Chromium against the real viewer sink:
 * the test writes packets as a graph with a crowd-density node would (a new estimate every 10
 * frames, carried between), and checks what a person sees: the density count with its band
 * beside the detector's person count, the zone's density beside its tracked occupancy, the
 * density series with its shaded band in the chart, and the density map as a layer over the
 * picture that the switch shows and hides. The sink has a token, as one reachable from the
 * network must: the page, opened with `?token=`, passes it on to its script and its socket.
 * Leaves `out/viewer-density.png`.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { densityBand } from '../../nodes/heads/crowd-density.ts';
import { createViewerSink, viewerOptions, type ViewerSink } from '../../nodes/sinks/viewer/viewer-sink.ts';
import type { DensityEstimate, FramePacket } from '../../pipeline/frame.ts';
import { PipelineMetrics } from '../../pipeline/metrics.ts';
import { launchChromium, openDashboard } from '../helpers/browser.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet } from '../helpers/panoptic.ts';

/** What the page tells tests (`window.__panoptes`), the part read here. */
interface Probe {
  readonly countsReceived: number;
  readonly densityReceived: number;
  readonly densityLayerDrawn: number;
}
const probe = () => (window as unknown as { __panoptes: Probe }).__panoptes;

const STREAM = 'plaza';
const TOKEN = 'correct-horse-battery';
const WIDTH = 640;
const HEIGHT = 360;
const GREY = 128;
const FRAME_INTERVAL_MS = 50;
/** A new estimate every this many frames, as `everyFrames: 10` would give. */
const EVERY_FRAMES = 10;
const EXPECTED_ERROR = 0.26;
/** The density map: 32x12 cells over the middle half of the frame's height. */
const MAP_W = 32;
const MAP_H = 12;
const REGION: [number, number, number, number] = [0, 0.25, 1, 0.75];
/** The crowd's cells, and the frame pixel at their centre (where the layer is hottest). */
const HOT_CELLS = { x: [22, 23, 24, 25], y: [4, 5, 6, 7] };
const HOT_PIXEL = { x: (24 / MAP_W) * WIDTH, y: HEIGHT * 0.25 + (6 / MAP_H) * (HEIGHT / 2) };
/** The zone: the right half of the frame, where the crowd is. */
const ZONE = { name: 'gate', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] as [number, number][] };

/** The estimate of run `k`: about 40 + k people, 90% of them in the crowd's cells. */
function estimate(k: number, seq: number): DensityEstimate {
  const map = new Float32Array(MAP_W * MAP_H).fill((0.1 * (40 + k)) / (MAP_W * MAP_H));
  const hot = (0.9 * (40 + k)) / (HOT_CELLS.x.length * HOT_CELLS.y.length);
  for (const y of HOT_CELLS.y) for (const x of HOT_CELLS.x) map[y * MAP_W + x]! += hot;
  const count = 40 + k;
  return { model: 'mcnn-shanghaitech-a', count, scale: 1, expectedError: EXPECTED_ERROR, ...densityBand(count, EXPECTED_ERROR), map, width: MAP_W, height: MAP_H, region: REGION, seq, ageMs: 0 };
}

class Feeder {
  seq = 0;
  private latest: DensityEstimate | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sink: ViewerSink,
    private readonly metrics: PipelineMetrics,
    private readonly jpeg: Buffer,
  ) {
    this.timer = setInterval(() => this.tick(), FRAME_INTERVAL_MS);
  }

  private tick(): void {
    const seq = ++this.seq;
    const ptsMs = seq * FRAME_INTERVAL_MS;
    if (seq % EVERY_FRAMES === 1) this.latest = estimate(Math.floor(seq / EVERY_FRAMES), seq);
    const density = { ...this.latest!, ageMs: ptsMs - this.latest!.seq * FRAME_INTERVAL_MS };
    const packet: FramePacket = {
      frame: { stream: STREAM, seq, ptsMs, width: WIDTH, height: HEIGHT, data: new Uint8Array(0), capturedAtMs: Date.now() - 30 },
      timings: { 'crowd-density': 0.1, overlay: 3 },
      panoptic: {
        width: WIDTH,
        height: HEIGHT,
        classMap: new Uint8Array(0),
        segmentMap: new Uint32Array(0),
        segments: [{ id: 1, classId: 0, className: 'person', isThing: true, area: 400, bbox: [100, 200, 120, 240], score: 0.8, trackId: 1, trackState: 'confirmed', runs: new Uint32Array(0) }],
        classes: testClassSet(['person'], ['person']),
      },
      analytics: {
        counts: { person: 4 },
        coverage: {},
        unique: { person: 9 },
        lines: [],
        zones: [{ ...ZONE, occupancy: { person: 3 }, entered: { person: 7 } }],
        events: [],
        crowd: { persons: 4 },
      },
      density,
      overlay: { jpeg: this.jpeg, width: WIDTH, height: HEIGHT },
      leases: [],
    };
    this.metrics.decoded(STREAM);
    this.metrics.processed(STREAM, packet.frame.capturedAtMs, packet.timings);
    this.sink.write(packet);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The colour a person sees at frame pixel (x, y) of the focused picture: from a screenshot. */
async function seenColour(page: Page, x: number, y: number): Promise<number[]> {
  const box = (await page.locator('#focus-canvas').boundingBox())!;
  const scale = Math.min(box.width / WIDTH, box.height / HEIGHT);
  const clip = {
    x: Math.round(box.x + (box.width - WIDTH * scale) / 2 + x * scale),
    y: Math.round(box.y + (box.height - HEIGHT * scale) / 2 + y * scale),
    width: 1,
    height: 1,
  };
  const png = await page.screenshot({ clip });
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [data[0]!, data[1]!, data[2]!];
}

/** Pixels of the chart in the density colour: opaque (its line) and about a quarter opaque (its band). */
function chartDensityPixels(page: Page): Promise<{ line: number; band: number; enclosed: boolean }> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#chart')!;
    if (canvas.width === 0) return { line: 0, band: 0, enclosed: false };
    const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const near = (i: number) => Math.abs(data[i]! - 255) < 30 && Math.abs(data[i + 1]! - 123) < 35 && data[i + 2]! < 90;
    let line = 0;
    let band = 0;
    let enclosed = false;
    for (let x = 0; x < width; x++) {
      let lineRow = -1;
      let bandTop = Infinity;
      let bandBottom = -1;
      for (let y = 0; y < height; y++) {
        const i = (y * width + x) * 4;
        if (!near(i)) continue;
        if (data[i + 3]! > 200) {
          line++;
          lineRow = y;
        } else if (data[i + 3]! > 40 && data[i + 3]! < 100) {
          band++;
          bandTop = Math.min(bandTop, y);
          bandBottom = Math.max(bandBottom, y);
        }
      }
      // The band lies above and below the line in the same column: it is drawn around the count.
      if (lineRow >= 0 && bandTop < lineRow - 2 && bandBottom > lineRow + 2) enclosed = true;
    }
    return { line, band, enclosed };
  });
}

describe('dashboard crowd density in Chromium', () => {
  let browser: Browser;
  let sink: ViewerSink;
  let feeder: Feeder | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    const jpeg = await sharp(new Uint8Array(WIDTH * HEIGHT * 3).fill(GREY), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const metrics = new PipelineMetrics();
    sink = await createViewerSink(viewerOptions.parse({ port: 0, token: TOKEN }), { ...graphContext([STREAM]), metrics });
    feeder = new Feeder(sink, metrics, jpeg);
  });

  afterAll(async () => {
    feeder?.stop();
    await sink?.close();
    await browser?.close();
  });

  it('shows the density count with its band beside the detector\'s, per zone, in the chart, and as a switchable map', async () => {
    const { page, pageErrors } = await openDashboard(browser, `${sink.url}/?token=${TOKEN}`);
    // One stream: the page opens on it.
    await page.waitForSelector('#main[data-mode="focus"]');
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#focus-canvas')!.width > 0);

    // The panel: "≈ 41" and "likely 30–52" under the detector's rows, with what the band is.
    await page.waitForSelector('#density-now:not([hidden])');
    // Read together: the feeder moves the count on between two separate reads.
    const shown = await page.evaluate(() => [document.querySelector('#density-count')!.textContent!, document.querySelector('#density-band')!.textContent!]);
    const count = Number(shown[0]!.match(/^≈ (\d+)$/)![1]);
    const [, low, high] = shown[1]!.match(/^likely (\d+)–(\d+)$/)!.map(Number);
    expect(count).toBeGreaterThanOrEqual(40);
    expect(Math.abs(low! - count * (1 - EXPECTED_ERROR))).toBeLessThanOrEqual(1);
    expect(Math.abs(high! - count * (1 + EXPECTED_ERROR))).toBeLessThanOrEqual(1);
    expect(await page.textContent('#density-note')).toMatch(/^±26% expected error · detector: 4 persons · \d+ ms old$/);
    expect(await page.textContent('#counts-now [data-key="person"] .value')).toBe('4');

    // The zone: the people the map puts in it beside its tracked occupancy (90% of the crowd is in it).
    const zone = '#totals [data-key="zone:gate"]';
    await page.waitForSelector(`${zone} .zone-density:not([hidden])`);
    expect(await page.textContent(`${zone} .a`)).toBe('3 inside');
    const [, zoneCount, zoneLow, zoneHigh] = (await page.textContent(`${zone} .zone-density`))!
      .match(/^density model: ≈ (\d+) people, likely (\d+)–(\d+)$/)!
      .map(Number);
    expect(zoneCount).toBeGreaterThan(0.9 * 40);
    expect(zoneLow).toBeLessThan(zoneCount!);
    expect(zoneHigh).toBeGreaterThan(zoneCount!);

    // The chart: the density series as a line inside its shaded band, and in the legend.
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#chart')!;
      return canvas.width > 0 && (window as unknown as { __panoptes: Probe }).__panoptes.countsReceived > 20;
    });
    // The series grows from the right as the counts come (the window is 30 s wide at first).
    let pixels = await chartDensityPixels(page);
    for (const deadline = Date.now() + 10_000; (pixels.line <= 40 || pixels.band <= 200) && Date.now() < deadline; ) {
      await page.waitForTimeout(250);
      pixels = await chartDensityPixels(page);
    }
    expect(pixels.line, 'line pixels').toBeGreaterThan(40);
    expect(pixels.band, 'band pixels').toBeGreaterThan(200);
    expect(pixels.enclosed, 'the band around the line').toBe(true);
    expect(await page.textContent('#chart-legend')).toContain('people, density model');

    // The map is sent once per estimate, not once per frame.
    const { countsReceived, densityReceived } = await page.evaluate(probe);
    expect(densityReceived).toBeGreaterThan(0);
    expect(densityReceived).toBeLessThanOrEqual(Math.ceil(countsReceived / EVERY_FRAMES) + 1);

    // The map layer: off at first, the picture grey where the crowd is.
    await page.waitForSelector('#density-toggle:not([hidden])');
    expect(await page.getAttribute('#density-toggle', 'aria-pressed')).toBe('false');
    expect(await page.isHidden('#density-layer')).toBe(true);
    const before = await seenColour(page, HOT_PIXEL.x, HOT_PIXEL.y);
    before.forEach((channel) => expect(Math.abs(channel - GREY)).toBeLessThan(30));

    // Switched on: red where the crowd is, the picture still grey far from it.
    await page.click('#density-toggle');
    expect(await page.getAttribute('#density-toggle', 'aria-pressed')).toBe('true');
    await page.waitForSelector('#density-layer:not([hidden])');
    const [r, g, b] = await seenColour(page, HOT_PIXEL.x, HOT_PIXEL.y);
    expect(r! - b!, `seen [${r}, ${g}, ${b}]`).toBeGreaterThan(80);
    expect(r!).toBeGreaterThan(180);
    const far = await seenColour(page, 40, HEIGHT - 20);
    far.forEach((channel) => expect(Math.abs(channel - GREY)).toBeLessThan(30));
    // A new estimate redraws the layer.
    const drawn = (await page.evaluate(probe)).densityLayerDrawn;
    await page.waitForFunction((n) => (window as unknown as { __panoptes: Probe }).__panoptes.densityLayerDrawn > n, drawn);
    // The mouse still reaches the picture under the layer: the hover label names the person.
    const box = (await page.locator('#focus-canvas').boundingBox())!;
    const scale = Math.min(box.width / WIDTH, box.height / HEIGHT);
    await page.mouse.move(box.x + (box.width - WIDTH * scale) / 2 + 110 * scale, box.y + (box.height - HEIGHT * scale) / 2 + 220 * scale);
    await page.waitForSelector('#hover-label:not([hidden])');
    expect(await page.textContent('#hover-label')).toBe('person #1 0.80');
    await mkdir('out', { recursive: true });
    await page.screenshot({ path: 'out/viewer-density.png' });

    // Switched off again: grey again.
    await page.click('#density-toggle');
    await page.waitForSelector('#density-layer', { state: 'hidden' });
    const after = await seenColour(page, HOT_PIXEL.x, HOT_PIXEL.y);
    after.forEach((channel) => expect(Math.abs(channel - GREY)).toBeLessThan(30));

    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
