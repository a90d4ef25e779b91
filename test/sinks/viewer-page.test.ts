/**
 * The viewer page in a real headless Chromium: frames written to the sink must end up drawn on
 * the canvas, with the counts table filled and a stream picker when there are several streams.
 * Leaves a screenshot in `out/viewer-page.png` for a person to look at.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FramePacket, Segment } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { PipelineMetrics } from '../../pipeline/metrics.ts';
import type { GraphContext } from '../../pipeline/node.ts';
import { launchChromium } from '../helpers/browser.ts';
import { createViewerSink, viewerSink, type FrameHeader, type ViewerSink } from '../../nodes/sinks/viewer-sink.ts';

declare global {
  interface Window {
    __panoptes: { framesDrawn: number; lastHeader: FrameHeader | null };
  }
}

const WIDTH = 320;
const HEIGHT = 180;
const FRAME_INTERVAL_MS = 50;

interface Scene {
  readonly stream: string;
  /** Colour of the rectangle, `[x, y, width, height]` in frame pixels. */
  readonly colour: readonly [number, number, number];
  readonly rect: readonly [number, number, number, number];
  readonly segments: readonly Segment[];
}

function thing(id: number, className: string, bbox: Segment['bbox'], score: number, trackId?: number): Segment {
  const base = { id, classId: id, className, isThing: true, area: bbox[2] * bbox[3], bbox, score };
  return trackId === undefined ? base : { ...base, trackId, trackState: 'confirmed' as const };
}

const FRONT_DOOR: Scene = {
  stream: 'front-door',
  colour: [220, 20, 20],
  rect: [100, 50, 100, 80],
  segments: [
    { id: 1, classId: 0, className: 'road', isThing: false, area: WIDTH * 40, bbox: [0, 140, WIDTH, 40], score: 1 },
    thing(2, 'car', [100, 50, 100, 80], 0.87, 3),
    thing(3, 'person', [20, 30, 30, 70], 0.65),
    thing(4, 'car', [230, 100, 60, 35], 0.71, 5),
  ],
};

const GARAGE: Scene = {
  stream: 'garage',
  colour: [20, 40, 220],
  rect: [40, 40, 120, 90],
  segments: [thing(1, 'bicycle', [40, 40, 120, 90], 0.93)],
};

async function sceneJpeg(scene: Scene): Promise<Buffer> {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3).fill(128);
  const [rx, ry, rw, rh] = scene.rect;
  for (let y = ry; y < ry + rh; y++) {
    for (let x = rx; x < rx + rw; x++) rgb.set(scene.colour, (y * WIDTH + x) * 3);
  }
  return sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

function packet(scene: Scene, seq: number, jpeg: Buffer): FramePacket {
  return {
    frame: { stream: scene.stream, seq, ptsMs: seq * FRAME_INTERVAL_MS, width: WIDTH, height: HEIGHT, data: new Uint8Array(0), capturedAtMs: Date.now() - 40 },
    timings: { 'semantic-segmentation': 18.4, 'instance-segmentation': 24.1, 'panoptic-fusion': 2.3, 'overlay-render': 3.2 },
    panoptic: {
      width: WIDTH,
      height: HEIGHT,
      classMap: new Uint8Array(0),
      segmentMap: new Uint32Array(0),
      segments: scene.segments,
      classNames: [],
    },
    overlay: { jpeg, width: WIDTH, height: HEIGHT },
    leases: [],
  };
}

/** Writes both scenes every 50 ms and keeps the metrics moving, as a running graph would. */
function startFeeding(sink: () => ViewerSink, metrics: PipelineMetrics, jpegs: Map<Scene, Buffer>): () => void {
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    for (const [scene, jpeg] of jpegs) {
      const next = packet(scene, seq, jpeg);
      metrics.decoded(scene.stream);
      // Every tenth frame is dropped by the inference stage, so the drops panel has content.
      if (seq % 10 === 0) {
        metrics.drop(scene.stream, 'semantic-segmentation');
        continue;
      }
      metrics.processed(scene.stream, next.frame.capturedAtMs, next.timings);
      sink().write(next);
    }
  }, FRAME_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** Reads the canvas back in the page: the pixel at a frame point, and how many colours it has. */
async function canvasProbe(page: Page, points: readonly (readonly [number, number])[]) {
  return page.evaluate((framePoints) => {
    const canvas = document.querySelector('canvas')!;
    const header = window.__panoptes.lastHeader!;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const scale = canvas.width / header.width;
    const at = ([x, y]: readonly [number, number]) => {
      const offset = (Math.floor(y * scale) * canvas.width + Math.floor(x * scale)) * 4;
      return [pixels[offset]!, pixels[offset + 1]!, pixels[offset + 2]!];
    };
    const colours = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4 * 97) colours.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
    return { stream: header.stream, samples: framePoints.map(at), distinctColours: colours.size };
  }, points);
}

async function countsTable(page: Page): Promise<Record<string, number>> {
  return page.$$eval('#counts tr', (rows) =>
    Object.fromEntries(
      rows
        .map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent?.trim() ?? ''))
        .filter((cells) => cells.length === 2)
        .map(([name, count]) => [name, Number(count)]),
    ),
  );
}

function context(metrics: PipelineMetrics): GraphContext {
  return {
    log: createMemoryLogger(),
    metrics,
    dataDir: '/nonexistent',
    signal: new AbortController().signal,
    executionProviders: ['cpu'],
    streams: [],
    shared: () => Promise.reject(new Error('not used by the viewer')),
  };
}

describe('viewer page in Chromium', () => {
  let browser: Browser;
  const metrics = new PipelineMetrics();
  const jpegs = new Map<Scene, Buffer>();
  let sink: ViewerSink;
  let stopFeeding = () => {};

  beforeAll(async () => {
    browser = await launchChromium();
    jpegs.set(FRONT_DOOR, await sceneJpeg(FRONT_DOOR));
    jpegs.set(GARAGE, await sceneJpeg(GARAGE));
    sink = await createViewerSink(viewerSink.options.parse({ port: 0 }), context(metrics));
    stopFeeding = startFeeding(() => sink, metrics, jpegs);
  });

  afterAll(async () => {
    stopFeeding();
    await sink?.close();
    await browser?.close();
  });

  it('draws frames with labels, shows counts and stats, switches streams, and reconnects', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });

    await page.goto(sink.url);
    await page.waitForFunction(() => window.__panoptes.framesDrawn > 0);

    // The first stream is shown by default; the red rectangle is on the canvas, grey around it.
    const first = await canvasProbe(page, [[150, 110], [300, 20]]);
    expect(first.stream).toBe('front-door');
    const [red, grey] = first.samples;
    expect(red![0]).toBeGreaterThan(180);
    expect(red![1]).toBeLessThan(70);
    expect(red![2]).toBeLessThan(70);
    for (const channel of grey!) expect(Math.abs(channel - 128)).toBeLessThan(20);
    expect(first.distinctColours).toBeGreaterThan(3);

    expect(await countsTable(page)).toEqual({ car: 2, person: 1 });
    await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live');
    // Stats arrive every 500 ms; wait until they carry the drop at the inference stage.
    await page.waitForFunction(() => document.querySelector('#drops')?.textContent?.includes('semantic-segmentation'));
    expect(Number(await page.textContent('#processed'))).toBeGreaterThan(0);
    expect(await page.textContent('#fps')).toMatch(/^\d+\.\d$/);

    // Two streams: a picker appears, defaulting to the first.
    await page.waitForFunction(() => document.querySelectorAll('#stream-select option').length === 2);
    expect(await page.isVisible('#stream-select')).toBe(true);
    expect(await page.inputValue('#stream-select')).toBe('front-door');

    await mkdir('out', { recursive: true });
    await page.screenshot({ path: 'out/viewer-page.png' });

    await page.selectOption('#stream-select', 'garage');
    await page.waitForFunction(() => window.__panoptes.lastHeader?.stream === 'garage');
    const garage = await canvasProbe(page, [[100, 110]]);
    const [blue] = garage.samples;
    expect(blue![2]).toBeGreaterThan(180);
    expect(blue![0]).toBeLessThan(70);
    expect(await countsTable(page)).toEqual({ bicycle: 1 });

    // The server restarts on the same port: the page notices, reconnects and draws again.
    const port = Number(new URL(sink.url).port);
    await sink.close();
    await page.waitForFunction(() => document.querySelector('#connection')?.getAttribute('data-state') === 'down');
    const drawnBeforeRestart = await page.evaluate(() => window.__panoptes.framesDrawn);
    sink = await createViewerSink(viewerSink.options.parse({ port }), context(metrics));
    await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', undefined, { timeout: 10_000 });
    await page.waitForFunction((before) => window.__panoptes.framesDrawn > before, drawnBeforeRestart);

    // The socket drop during the restart is expected; anything else the page logged is a bug.
    expect(pageErrors.filter((text) => !text.includes('WebSocket'))).toEqual([]);
    await page.close();
  });
});
