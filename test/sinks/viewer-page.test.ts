/**
 * The dashboard (viewer/index.html) in a real headless Chromium against the real viewer sink:
 * the test writes packets as a running graph would (real JPEGs, panoptic segments, analytics
 * whose counts change) and checks what a person would see: a tile per stream drawing its
 * frames, the focused stream's counts changing, its chart, totals and events, the ended and
 * failed badges, a sink that failed named in the header, and a reconnect after the server
 * restarts on the same port.
 * Leaves screenshots in `out/viewer-page.png` (focused) and `out/viewer-page-grid.png`.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameAnalytics, FramePacket, Segment } from '../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../pipeline/analytics-types.ts';
import { PipelineMetrics } from '../../pipeline/metrics.ts';
import type { GraphContext } from '../../pipeline/node.ts';
import type { VideoHeader } from '../../servers/viewer-protocol/protocol.ts';
import { createViewerSink, viewerOptions, type ViewerSink } from '../../nodes/sinks/viewer/viewer-sink.ts';
import { launchChromium, openDashboard } from '../helpers/browser.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { fromXywh, type XywhBox } from '../../lib/geometry/box.ts';
import { testClassSet } from '../helpers/panoptic.ts';

declare global {
  interface Window {
    __panoptes: { framesDrawn: number; lastHeader: VideoHeader | null; countsReceived: number; streams: string[] };
  }
}

const WIDTH = 640;
const HEIGHT = 360;
const FRAME_INTERVAL_MS = 50;
/** Pictures per scene; the frames cycle through them so the video moves. */
const SCENE_FRAMES = 8;
/** A stream that is not in the graph's list at the start: it appears later (and fails). */
const LATE_STREAM = 'yard <img src=x onerror="window.__xss=1">';

interface Scene {
  readonly stream: string;
  readonly sky: string;
  readonly ground: string;
  /** The stream's coloured rectangle, `[x, y, width, height]` in frame pixels. */
  readonly rect: readonly [number, number, number, number];
  readonly colour: readonly [number, number, number];
  readonly line: string;
  readonly zone: string;
}

const SCENES: readonly Scene[] = [
  { stream: 'front-door', sky: '#3d5a78', ground: '#4a4f57', rect: [250, 170, 170, 90], colour: [220, 30, 30], line: 'driveway', zone: 'porch' },
  { stream: 'garage', sky: '#2d3a4a', ground: '#5b5550', rect: [150, 130, 200, 120], colour: [30, 60, 225], line: 'bay door', zone: 'workbench' },
  { stream: LATE_STREAM, sky: '#35503a', ground: '#556048', rect: [300, 150, 150, 110], colour: [30, 200, 60], line: 'gate', zone: 'lawn' },
];
const [FRONT_DOOR, GARAGE, LATE] = SCENES as [Scene, Scene, Scene];

const hex = ([r, g, b]: readonly [number, number, number]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/**
 * One picture of a scene, as the overlay renderer would hand it over: the scene, with the
 * counting line and the labels already drawn into it; a person walks across as `step` grows.
 */
async function sceneJpeg(scene: Scene, step: number): Promise<Buffer> {
  const [x, y, w, h] = scene.rect;
  const px = 60 + step * 60;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${scene.sky}"/><stop offset="1" stop-color="#1b2027"/></linearGradient></defs>
    <rect width="${WIDTH}" height="${HEIGHT}" fill="url(#sky)"/>
    <polygon points="0,${HEIGHT} ${WIDTH},${HEIGHT} ${WIDTH},200 0,230" fill="${scene.ground}"/>
    <polygon points="40,80 180,70 190,160 50,170" fill="rgba(255,170,0,0.18)" stroke="#ffaa00" stroke-width="2"/>
    <line x1="20" y1="300" x2="620" y2="290" stroke="#ffd400" stroke-width="3"/>
    <rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${hex(scene.colour)}"/>
    <rect x="${x - 2}" y="${y - 2}" width="${w + 4}" height="${h + 4}" fill="none" stroke="#ffffff" stroke-width="2"/>
    <rect x="${x - 2}" y="${y - 22}" width="92" height="20" fill="#ffffff"/>
    <text x="${x + 4}" y="${y - 7}" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#111">car #3 0.87</text>
    <ellipse cx="${px}" cy="250" rx="11" ry="26" fill="#e8c39e" stroke="#ffffff" stroke-width="2"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** A thing given by its `[x, y, width, height]`; the page draws from the header alone, so it owns no pixels. */
function thing(id: number, className: string, [x, y, w, h]: XywhBox, score: number, trackId: number): Segment {
  return { id, classId: id, className, isThing: true, area: w * h, bbox: fromXywh(x, y, w, h), score, trackId, trackState: 'confirmed', runs: new Uint32Array(0) };
}

/** The `in` total of a scene's line in frame `seq`, as {@link analytics} gives it. */
function lineInTotalAt(seq: number): number {
  const crossings = Math.floor(Math.max(0, seq) / 20);
  return crossings - Math.floor(crossings / 3);
}

/** Analytics whose counts change from frame to frame, with totals that grow and a line event now and then. */
function analytics(scene: Scene, seq: number, ptsMs: number): FrameAnalytics {
  const cars = seq % 3;
  const crossings = Math.floor(seq / 20);
  const events: AnalyticsEvent[] =
    seq % 20 === 0
      ? [{ id: `line-${crossings}`, type: 'line', stream: scene.stream, line: scene.line, trackId: 100 + crossings, className: 'car', direction: crossings % 3 === 2 ? 'out' : 'in', ptsMs }]
      : [];
  if (seq % 60 === 30) {
    events.push({ id: `zone-${ptsMs}`, type: 'zone', stream: scene.stream, zone: scene.zone, event: 'exit', trackId: 7, className: 'person', dwellMs: 4200, ptsMs });
  }
  return {
    counts: { ...(cars > 0 ? { car: cars } : {}), person: 1 },
    coverage: { road: 0.38, sky: 0.41 },
    unique: { car: 3 + crossings, person: 2 + Math.floor(seq / 60) },
    lines: [{ name: scene.line, points: [[0.03, 0.83], [0.97, 0.8]], in: { car: lineInTotalAt(seq) }, out: { car: Math.floor(crossings / 3) } }],
    zones: [{ name: scene.zone, polygon: [[0.06, 0.22], [0.28, 0.19], [0.3, 0.44], [0.08, 0.47]], occupancy: { person: 1 }, entered: { person: 1 + Math.floor(seq / 60) } }],
    events,
    crowd: { persons: 1 },
  };
}

function packet(scene: Scene, seq: number, jpeg: Buffer): FramePacket {
  const [x, y, w, h] = scene.rect;
  const ptsMs = seq * FRAME_INTERVAL_MS;
  return {
    frame: { stream: scene.stream, seq, ptsMs, width: WIDTH, height: HEIGHT, data: new Uint8Array(0), capturedAtMs: Date.now() - 40 },
    timings: { 'semantic-segmentation': 18.4, 'instance-segmentation': 24.1, 'panoptic-fusion': 2.3, tracker: 0.6, analytics: 0.4, 'overlay-render': 3.2 },
    panoptic: {
      width: WIDTH,
      height: HEIGHT,
      classMap: new Uint8Array(0),
      segmentMap: new Uint32Array(0),
      segments: [
        { id: 1, classId: 0, className: 'road', isThing: false, area: WIDTH * 140, bbox: [0, 200, WIDTH, 360], score: 1, runs: new Uint32Array(0) },
        thing(2, 'car', [x, y, w, h], 0.87, 3),
        thing(3, 'person', [49 + (seq % SCENE_FRAMES) * 60, 224, 22, 52], 0.71, 7),
      ],
      classes: testClassSet(['road', 'car', 'person'], ['car', 'person']),
    },
    analytics: analytics(scene, seq, ptsMs),
    overlay: { jpeg, width: WIDTH, height: HEIGHT },
    leases: [],
  };
}

/**
 * Writes a packet of every fed scene each 50 ms and keeps the metrics moving, as a running
 * graph would; one frame in ten is "dropped" by the inference stage instead.
 */
class Feeder {
  /** The last frame number fed. */
  seq = 0;
  private readonly timer: NodeJS.Timeout;
  readonly fed = new Set<Scene>();

  constructor(
    private readonly sink: () => ViewerSink,
    private readonly metrics: PipelineMetrics,
    private readonly jpegs: ReadonlyMap<Scene, readonly Buffer[]>,
  ) {
    this.timer = setInterval(() => this.tick(), FRAME_INTERVAL_MS);
  }

  private tick(): void {
    this.seq++;
    for (const scene of this.fed) {
      const next = packet(scene, this.seq, this.jpegs.get(scene)![this.seq % SCENE_FRAMES]!);
      this.metrics.decoded(scene.stream);
      if (this.seq % 10 === 5) {
        this.metrics.drop(scene.stream, 'semantic-segmentation');
        continue;
      }
      this.metrics.processed(scene.stream, next.frame.capturedAtMs, next.timings);
      this.sink().write(next);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function context(metrics: PipelineMetrics): GraphContext {
  return { ...graphContext([FRONT_DOOR.stream, GARAGE.stream]), metrics };
}

const tileSelector = (stream: string) => `.tile[data-stream="${stream}"]`;

/** The colour the page drew at the middle of a scene's rectangle, in `canvas` (frame-sized). */
async function rectColour(page: Page, canvasSelector: string, scene: Scene): Promise<number[]> {
  const [x, y, w, h] = scene.rect;
  return page.evaluate(
    ({ selector, px, py }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
      return Array.from(canvas.getContext('2d')!.getImageData(px, py, 1, 1).data.slice(0, 3));
    },
    { selector: canvasSelector, px: x + w / 2, py: y + h / 2 },
  );
}

function expectColour(actual: number[], expected: readonly [number, number, number]): void {
  actual.forEach((channel, i) => expect(Math.abs(channel - expected[i]!), `channel ${i} of [${actual}] vs [${expected}]`).toBeLessThan(40));
}

/** Waits until a tile (found by its stream name, whatever characters it has) drew a frame. */
async function waitForTileFrame(page: Page, stream: string): Promise<void> {
  await page.waitForFunction((name) => {
    const tile = Array.from(document.querySelectorAll<HTMLElement>('.tile')).find((t) => t.dataset.stream === name);
    return (tile?.querySelector('canvas')?.width ?? 0) > 0;
  }, stream);
}

describe('dashboard page in Chromium', () => {
  let browser: Browser;
  const metrics = new PipelineMetrics();
  const jpegs = new Map<Scene, Buffer[]>();
  let sink: ViewerSink;
  let feeder: Feeder | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    for (const scene of SCENES) jpegs.set(scene, await Promise.all(Array.from({ length: SCENE_FRAMES }, (_, step) => sceneJpeg(scene, step))));
    sink = await createViewerSink(viewerOptions.parse({ port: 0 }), context(metrics));
    feeder = new Feeder(() => sink, metrics, jpegs);
    feeder.fed.add(FRONT_DOOR).add(GARAGE);
  });

  afterAll(async () => {
    feeder?.stop();
    await sink?.close();
    await browser?.close();
  });

  it('shows a live grid, a focused stream with counts, chart, totals and events, end badges, and reconnects', async () => {
    await mkdir('out', { recursive: true });
    const { page, pageErrors } = await openDashboard(browser, sink.url);

    // The grid: one tile per stream of the hello, each drawing its own stream's frames.
    await page.waitForSelector(tileSelector(FRONT_DOOR.stream));
    await page.waitForSelector(tileSelector(GARAGE.stream));
    await waitForTileFrame(page, FRONT_DOOR.stream);
    await waitForTileFrame(page, GARAGE.stream);
    expectColour(await rectColour(page, `${tileSelector(FRONT_DOOR.stream)} canvas`, FRONT_DOOR), FRONT_DOOR.colour);
    expectColour(await rectColour(page, `${tileSelector(GARAGE.stream)} canvas`, GARAGE), GARAGE.colour);
    expect(await page.evaluate(() => window.__panoptes.streams)).toEqual([FRONT_DOOR.stream, GARAGE.stream]);
    expect(await page.getAttribute('#main', 'data-mode')).toBe('grid');
    await page.waitForSelector('#connection[data-state="live"]');
    // Stats arrive every 500 ms: the tiles then show fps and latency.
    await page.waitForFunction((selector) => /^\d+\.\d$/.test(document.querySelector(`${selector} .fps b`)?.textContent ?? ''), tileSelector(GARAGE.stream));
    expect(await page.textContent(`${tileSelector(GARAGE.stream)} .latency b`)).toMatch(/^\d+ ms$/);
    expect(await page.textContent(`${tileSelector(GARAGE.stream)} .age b`)).toMatch(/^\d+ ms$/);
    await page.screenshot({ path: 'out/viewer-page-grid.png' });

    // Focus a stream: the large view draws it, and the side panel follows it.
    await page.click(tileSelector(FRONT_DOOR.stream));
    await page.waitForSelector('#main[data-mode="focus"]');
    expect(await page.textContent('#focus-name')).toBe(FRONT_DOOR.stream);
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#focus-canvas')!.width > 0);
    expectColour(await rectColour(page, '#focus-canvas', FRONT_DOOR), FRONT_DOOR.colour);

    // The thing under the mouse is named (a crowded overlay draws labels only where they fit).
    const box = (await page.locator('#focus-canvas').boundingBox())!;
    const scale = Math.min(box.width / WIDTH, box.height / HEIGHT);
    const [cx, cy, cw, ch] = FRONT_DOOR.rect;
    await page.mouse.move(box.x + (box.width - WIDTH * scale) / 2 + (cx + cw / 2) * scale, box.y + (box.height - HEIGHT * scale) / 2 + (cy + ch / 2) * scale);
    await page.waitForSelector('#hover-label:not([hidden])');
    expect(await page.textContent('#hover-label')).toBe('car #3 0.87');
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.waitForSelector('#hover-label', { state: 'hidden' });

    // Counts now change from frame to frame (car = seq % 3): the panel shows each value in turn.
    await page.waitForFunction(() => {
      const seen = ((window as unknown as { __carsSeen?: Set<string> }).__carsSeen ??= new Set());
      const value = document.querySelector('#counts-now [data-key="car"] .value')?.textContent;
      if (value) seen.add(value);
      return seen.size >= 3;
    });
    expect(await page.evaluate(() => [...(window as unknown as { __carsSeen: Set<string> }).__carsSeen].sort())).toEqual(['0', '1', '2']);
    expect(await page.textContent('#counts-now [data-key="person"] .value')).toBe('1');
    expect(await page.evaluate(() => window.__panoptes.countsReceived)).toBeGreaterThan(3);

    // The chart has coloured lines on it (its grid and labels are grey).
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#chart')!;
      if (canvas.width === 0) return false;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! > 128 && Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 60) coloured++;
      }
      return coloured > 40;
    });
    expect(await page.textContent('#chart-legend')).toContain('car');

    // A line event shows up in the list; the line's totals grow.
    await page.waitForFunction((line) => document.querySelector('#events')?.textContent?.includes(line), FRONT_DOOR.line);
    // With its snapshot as a thumbnail, decoded (these test events' tracks are gone: the whole overlay).
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('#events img.thumb')).some((img) => img.complete && img.naturalWidth > 0));
    const thumbs = await page.$$eval('#events img.thumb', (imgs) => imgs.map((img) => ({ alt: (img as HTMLImageElement).alt, width: (img as HTMLImageElement).naturalWidth })));
    const carThumb = thumbs.find((t) => /^snapshot of car #\d+$/.test(t.alt));
    expect(carThumb, JSON.stringify(thumbs)).toBeDefined();
    expect(carThumb!.width === 0 || carThumb!.width === WIDTH).toBe(true);
    expect(thumbs.some((t) => t.width === WIDTH)).toBe(true);
    const lineTotal = async () => Number((await page.textContent(`#totals [data-key="line:${FRONT_DOOR.line}"] .a`))?.match(/^(\d+) in$/)?.[1]);
    const fedBefore = feeder!.seq;
    const firstTotal = await lineTotal();
    const fedAfter = feeder!.seq;
    // The total shown is the one the feeder sent with a recent frame: never ahead of what was
    // fed, and at most a second (20 frames) behind it, since counts are never dropped.
    expect(Number.isInteger(firstTotal), `line total "${firstTotal}"`).toBe(true);
    expect(firstTotal).toBeLessThanOrEqual(lineInTotalAt(fedAfter));
    expect(firstTotal).toBeGreaterThanOrEqual(lineInTotalAt(fedBefore - 20));
    await page.waitForFunction(
      ({ key, before }) => Number(document.querySelector(`#totals [data-key="${key}"] .a`)?.textContent?.match(/^(\d+) in$/)?.[1]) > before,
      { key: `line:${FRONT_DOOR.line}`, before: firstTotal },
    );
    expect(await page.textContent(`#totals [data-key="zone:${FRONT_DOOR.zone}"]`)).toContain('1 inside');
    expect(await page.textContent('#counts-now [data-key="person"] .seen')).toMatch(/^\d+ seen$/);
    // Drops per place and time per node come from the pipeline's stats.
    await page.waitForFunction(() => document.querySelector('#drops')?.textContent?.includes('semantic-segmentation'));
    expect(await page.textContent('#node-ms')).toContain('instance-segmentation');
    expect(await page.textContent('#kpi-fps')).toMatch(/^\d+\.\d$/);
    // Wait for a zone event too, so the screenshot shows both kinds.
    await page.waitForFunction((zone) => document.querySelector('#events')?.textContent?.includes(zone), FRONT_DOOR.zone);
    await page.screenshot({ path: 'out/viewer-page.png' });

    // A stream the hello did not list appears when its data does; its name stays text.
    feeder!.fed.add(LATE);
    await waitForTileFrame(page, LATE.stream);
    expect(await page.evaluate(() => window.__panoptes.streams.length)).toBe(3);
    const late = await page.evaluate((name) => {
      const tile = Array.from(document.querySelectorAll<HTMLElement>('.tile')).find((t) => t.dataset.stream === name)!;
      return { name: tile.querySelector('.name')!.textContent, images: document.querySelectorAll('img:not(#events img.thumb)').length, xss: '__xss' in window };
    }, LATE.stream);
    expect(late).toEqual({ name: LATE.stream, images: 0, xss: false });

    // Streams end: one cleanly, one with an error. Their tiles say so; the live one does not.
    feeder!.fed.delete(GARAGE);
    feeder!.fed.delete(LATE);
    sink.streamEnded!(GARAGE.stream);
    sink.streamEnded!(LATE.stream, new Error('rtsp: connection refused'));
    await page.waitForFunction((selector) => document.querySelector(`${selector} .badge:not([hidden])`)?.textContent === 'ended', tileSelector(GARAGE.stream));
    await page.waitForFunction((name) => {
      const tile = Array.from(document.querySelectorAll<HTMLElement>('.tile')).find((t) => t.dataset.stream === name);
      const badge = tile?.querySelector<HTMLElement>('.badge');
      return badge && !badge.hidden && badge.textContent === 'failed' && badge.title.includes('connection refused');
    }, LATE.stream);
    expect(await page.isHidden(`${tileSelector(FRONT_DOOR.stream)} .badge`)).toBe(true);
    expect(await page.isHidden('#focus-badge')).toBe(true);

    // An optional sink fails (its disk filled): the run goes on, and the header names it.
    expect(await page.isHidden('#summary-failed')).toBe(true);
    metrics.sinkFailed('events', 'cannot write out/events.jsonl: ENOSPC: no space left on device', true);
    await page.waitForFunction(() => {
      const failed = document.querySelector<HTMLElement>('#summary-failed')!;
      return !failed.hidden && failed.textContent === 'events failed' && failed.title.includes('ENOSPC') && failed.title.includes('optional');
    });

    // The server restarts on the same port: the page notices, reconnects, subscribes again and draws.
    const port = Number(new URL(sink.url).port);
    await sink.close();
    await page.waitForSelector('#connection[data-state="down"]');
    const drawnBeforeRestart = await page.evaluate(() => window.__panoptes.framesDrawn);
    sink = await createViewerSink(viewerOptions.parse({ port }), context(metrics));
    await page.waitForSelector('#connection[data-state="live"]');
    await page.waitForFunction((before) => window.__panoptes.framesDrawn > before && window.__panoptes.lastHeader?.stream === 'front-door', drawnBeforeRestart);
    expectColour(await rectColour(page, `${tileSelector(FRONT_DOOR.stream)} canvas`, FRONT_DOOR), FRONT_DOOR.colour);
    // The ended stream stays marked across the reconnect.
    expect(await page.textContent(`${tileSelector(GARAGE.stream)} .badge`)).toBe('ended');

    // The socket failing while the server was down is expected; anything else logged is a bug.
    expect(pageErrors.filter((text) => !text.includes('WebSocket'))).toEqual([]);
    await page.close();
  });
});
