/**
 * MCAP recording and playback with the real thing: configs/dashcam.yaml on the highway clip
 * (real models), recorded by the `mcap` sink, read back with `@mcap/core`'s own indexed and
 * streaming readers, and played back through the `mcap-playback` source into the same config.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns, readFrameRecords } from '../../evaluation/runs/compare-runs.ts';
import { builtinNodes } from '../../nodes/index.ts';
import { buildGraph } from '../../pipeline/graph.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';

const FRAMES = 12;
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-mcap-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Entry = Record<string, unknown>;

/** Runs configs/dashcam.yaml lossless with its source and sinks replaced; the streams' errors. */
async function runDashcam(source: Entry, sinks: Entry[], allowErrors = false): Promise<string[]> {
  const { spec, dataDir } = loadPipeline(path.resolve('configs/dashcam.yaml'), builtinNodes(), (raw) => {
    raw.sources = [{ id: 'dashcam', ...source }];
    raw.sinks = sinks;
    raw.executionProviders = ['cpu'];
  });
  const graph = await buildGraph(spec, { dataDir, log: createMemoryLogger() });
  try {
    const errors = (await graph.run()).flatMap((o) => (o.error ? [o.error.message] : []));
    if (!allowErrors) expect(errors).toEqual([]);
    return errors;
  } finally {
    await graph.stop();
  }
}

async function indexedReader(file: string) {
  const handle = await open(file, 'r');
  const size = BigInt(statSync(file).size);
  const reader = await McapIndexedReader.Initialize({
    readable: {
      size: async () => size,
      read: async (offset, length) => {
        const buffer = new Uint8Array(Number(length));
        await handle.read(buffer, 0, buffer.length, Number(offset));
        return buffer;
      },
    },
  });
  return { reader, close: () => handle.close() };
}

describe('MCAP: configs/dashcam.yaml recorded and played back (highway clip, real models)', () => {
  const recording = path.join(scratch, 'drive.mcap');
  const firstRun = path.join(scratch, 'first.jsonl');

  it('records every frame on typed, indexed channels that @mcap/core reads', async () => {
    await runDashcam(
      { type: 'ffmpeg', uri: 'replay/videos/solidWhiteRight.mp4', realtime: false, maxFrames: FRAMES },
      [
        // Small chunks, so that this short run spans several and a cut file can be read.
        { type: 'mcap', path: recording, chunkBytes: 256 * 1024 },
        { type: 'events', path: firstRun },
      ],
    );
    const { reader, close } = await indexedReader(recording);
    try {
      const perTopic: Record<string, number> = {};
      const logTimes: bigint[] = [];
      for await (const message of reader.readMessages()) {
        const channel = reader.channelsById.get(message.channelId)!;
        perTopic[channel.topic] = (perTopic[channel.topic] ?? 0) + 1;
        if (channel.topic === '/dashcam/camera') {
          logTimes.push(message.logTime);
          const image = JSON.parse(Buffer.from(message.data).toString('utf8')) as { format: string; data: string };
          expect(image.format).toBe('jpeg');
          expect(Buffer.from(image.data, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
        }
        if (channel.topic === '/dashcam/segments') {
          const { segments } = JSON.parse(Buffer.from(message.data).toString('utf8')) as { segments: { className: string; pngId: number }[] };
          expect(segments.some((s) => s.className === 'road')).toBe(true);
        }
      }
      for (const topic of ['camera', 'annotations', 'panoptic', 'segments', 'counts']) expect(perTopic[`/dashcam/${topic}`], topic).toBe(FRAMES);
      const schemas = [...reader.schemasById.values()].map((s) => s.name);
      expect(schemas).toEqual(expect.arrayContaining(['foxglove.CompressedImage', 'foxglove.ImageAnnotations', 'panoptes.Counts', 'panoptes.Segments']));
      expect(reader.chunkIndexes.length).toBeGreaterThan(1);
      // The clip's own pace (25 frames a second), not the pipeline's.
      const spacingMs = Number(logTimes.at(-1)! - logTimes[0]!) / 1e6 / (FRAMES - 1);
      expect(spacingMs).toBeCloseTo(40, 0);
    } finally {
      await close();
    }
  }, 180_000);

  it('plays back into the same config with the same things found (JPEG at quality 90 between them)', async () => {
    const replayRun = path.join(scratch, 'replay.jsonl');
    await runDashcam({ type: 'mcap-playback', path: recording, realtime: false }, [{ type: 'events', path: replayRun }]);
    // What `panoptes eval runs --first first.jsonl --second replay.jsonl` prints.
    const report = compareRuns(firstRun, replayRun, 0.5);
    expect(report.frames).toEqual({ compared: FRAMES, onlyFirst: 0, onlySecond: 0 });
    expect(report.things.first).toBeGreaterThanOrEqual(2 * FRAMES);
    // Measured: 127 of the 130 things of 30 frames kept, mean IoU 0.97, no id change; the JPEG
    // between the runs moves a far car or two.
    expect(report.things.kept).toBeGreaterThanOrEqual(0.9);
    expect(report.things.meanIou).toBeGreaterThan(0.9);
    expect(report.stuff.maxCoverageDifference).toBeLessThan(0.05);
  }, 180_000);

  it('a file cut short (a crash) still reads, and plays, up to its last whole chunk', async () => {
    const cut = path.join(scratch, 'cut.mcap');
    copyFileSync(recording, cut);
    truncateSync(cut, Math.floor(statSync(recording).size / 2));
    const reader = new McapStreamReader();
    reader.append(readFileSync(cut));
    let messages = 0;
    for (let record = reader.nextRecord(); record; record = reader.nextRecord()) if (record.type === 'Message') messages++;
    expect(messages).toBeGreaterThan(0);
    expect(reader.done()).toBe(false);

    const replayRun = path.join(scratch, 'cut.jsonl');
    await runDashcam({ type: 'mcap-playback', path: cut, realtime: false }, [{ type: 'events', path: replayRun }]);
    const frames = readFrameRecords(replayRun).size;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(FRAMES);
  }, 180_000);

  it('names the problem when a file has no image channel, or not the one asked for', async () => {
    expect(await runDashcam({ type: 'mcap-playback', path: `${recording}#/dashcam/counts`, realtime: false }, [], true)).toEqual([
      expect.stringMatching(/channel \/dashcam\/counts holds panoptes\.Counts, not images/),
    ]);
    expect(await runDashcam({ type: 'mcap-playback', path: `${recording}#/nope`, realtime: false }, [], true)).toEqual([
      expect.stringMatching(/no channel \/nope; its channels: \/dashcam\/camera/),
    ]);
  }, 60_000);
});
