/**
 * What viewers cost the pipeline (issue 5), in one run:
 * - the default pipeline, every frame of the clip (lossless), with no viewer client, then with
 *   50 clients in another process of which 10 never read; frames/s of both and their ratio;
 * - render + JPEG encode time per 1280x720 frame (overlay drawing, labels, panel, encode).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { stepOperators } from '../pipeline/config/resolve.ts';
import { loadPipeline } from '../pipeline/load.ts';
import { buildGraph } from '../pipeline/graph.ts';
import { createLogger } from '../pipeline/log.ts';
import type { FramePacket } from '../pipeline/frame.ts';
import type { ViewerSink } from '../nodes/sinks/viewer/viewer-sink.ts';
import { chainContextFor } from './bench-context.ts';
import { builtinNodes } from '../nodes/index.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** 50 WebSocket clients in a child process; the first `stalled` stop reading after subscribing. */
function startClients(url: string, count: number, stalled: number): { stop: () => void; ready: Promise<void> } {
  const script = `
    import WebSocket from 'ws';
    let open = 0;
    for (let i = 0; i < ${count}; i++) {
      const ws = new WebSocket(${JSON.stringify(url.replace('http', 'ws') + '/ws')});
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'subscribe', topics: ['video', 'counts', 'events', 'stats'] }));
        if (i < ${stalled}) setTimeout(() => ws.pause(), 100);
        if (++open === ${count}) console.log('ready');
      });
      ws.on('message', () => {});
      ws.on('error', () => {});
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  return { stop: () => child.kill(), ready };
}

async function pipelineFps(frames: number, clients: number, stalled: number): Promise<{ fps: number; viewerDrops: number }> {
  const { spec, dataDir } = loadPipeline('configs/dashcam.yaml', builtinNodes(), (raw) => {
    for (const s of raw.sources as Record<string, unknown>[]) Object.assign(s, { realtime: false, loop: true, maxFrames: frames });
    raw.sinks = [{ type: 'viewer', port: 0 }];
  });
  const graph = await buildGraph(spec, { dataDir, log: createLogger('warn') });
  const viewer = graph.sinks[0] as ViewerSink;
  const fleet = clients > 0 ? startClients(viewer.url, clients, stalled) : undefined;
  await fleet?.ready;
  const started = performance.now();
  await graph.run();
  const seconds = (performance.now() - started) / 1000;
  const stats = graph.metrics.snapshot()[0]!;
  fleet?.stop();
  await graph.stop();
  return { fps: stats.processed / seconds, viewerDrops: stats.drops.viewer ?? 0 };
}

/** Overlay render + encode of real 1280x720 frames, with the real models' panoptic output. */
async function renderEncodeMs(iterations: number): Promise<number> {
  const { spec, dataDir } = loadPipeline('configs/dashcam.yaml', builtinNodes(), (raw) => {
    raw.sources = [{ id: 'hd', type: 'ffmpeg', uri: 'replay/videos/udacity_vehicle_detection_test_video.mp4', realtime: false, maxFrames: 1 }];
    raw.sinks = [];
  });
  const graph = await buildGraph(spec, { dataDir, log: createLogger('warn') });
  let packet: FramePacket | undefined;
  const sink = { write: (p: FramePacket) => (packet = { ...p, frame: { ...p.frame, data: p.frame.data.slice() } }), close: async () => {} };
  (graph.sinks as unknown as { push(s: typeof sink): void }).push(sink);
  await graph.run();
  await graph.stop();
  // The overlay node's own timing (draw + annotate + JPEG encode), repeated on the same frame.
  const overlay = spec.pipeline.flatMap(stepOperators).find((p) => p.node.type === 'overlay')!;
  const operator = await overlay.node.create(overlay.options, chainContextFor(dataDir));
  const base = { ...packet!, overlay: undefined, timings: {} };
  await lastValueFrom(from([base]).pipe(operator, toArray())); // warm up
  const out = await lastValueFrom(from(Array.from({ length: iterations }, () => base)).pipe(operator, toArray()));
  return out.reduce((sum, p) => sum + p.timings.overlay!, 0) / out.length;
}

export async function benchViewerClients(frames = 120): Promise<Record<string, number>> {
  const alone = await pipelineFps(frames, 0, 0);
  const crowded = await pipelineFps(frames, 50, 10);
  const render = await renderEncodeMs(20);
  return {
    framesPerRun: frames,
    fpsNoClients: alone.fps,
    fpsWith50Clients: crowded.fps,
    ratio: crowded.fps / alone.fps,
    viewerDropsWith50Clients: crowded.viewerDrops,
    renderEncodeMs1280x720: render,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchViewerClients(Number(process.argv[2] ?? 120));
  console.log(process.argv.includes('--json') ? JSON.stringify({ viewerClients: result }) : result);
}
