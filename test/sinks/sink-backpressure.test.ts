/**
 * A sink whose lossless queue is past its bound holds the packet's buffers through the graph
 * (Sink.backpressure) until its consumer catches up: how a slow disk makes a lossless source
 * wait instead of a sink losing lines or growing its memory.
 */
import { interval, map, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { byteLengthOf } from '../../servers/queue/byte-length.ts';
import { SinkQueue, type Taken } from '../../servers/queue/sink-queue.ts';
import { checkConfigFile } from '../../pipeline/config/config-file.ts';
import { resolveGraphSpec } from '../../pipeline/config/resolve.ts';
import { packetOf } from '../../pipeline/frame.ts';
import { buildGraph } from '../../pipeline/graph.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { defineSink, defineSource } from '../../pipeline/node.ts';
import { NodeRegistry } from '../../pipeline/registry.ts';
import { dataDir } from '../helpers/data-dir.ts';

const FRAMES = 10;
let released = 0;

const tinyCamera = defineSource({
  type: 'tiny-camera',
  description: 'test stand-in: ten frames, each holding one buffer',
  options: z.object({}),
  async create(_options, ctx) {
    return interval(1).pipe(
      take(FRAMES),
      map((seq) => packetOf({ stream: ctx.stream, seq, ptsMs: seq, width: 1, height: 1, data: new Uint8Array(3), capturedAtMs: Date.now() }, [() => released++])),
    );
  },
});

/** The consumer of the sink below: takes nothing until the test says so. */
const held: Taken[] = [];
const written: string[] = [];

const slowDiskSink = defineSink({
  type: 'slow-disk',
  description: 'test sink: one line per frame to a consumer that is held',
  options: z.object({}),
  async create() {
    const queue = new SinkQueue<string>({
      transmit: (line, taken) => {
        written.push(line);
        held.push(taken);
      },
      byteLength: byteLengthOf,
      inFlightBytes: 1,
      maxQueuedBytes: 8,
      overflow: 'backpressure',
    });
    return {
      write: (packet) => void queue.push(`frame ${packet.frame.seq}\n`),
      backpressure: () => queue.backpressure(),
      close: () => queue.drained(),
    };
  },
});

describe('a sink that is behind', () => {
  it('keeps the buffers of the packets it is behind on until its consumer catches up; what a live source could not send is counted', async () => {
    const registry = new NodeRegistry([tinyCamera, slowDiskSink]);
    const config = checkConfigFile({ sources: [{ id: 'cam', type: 'tiny-camera' }], pipeline: [], sinks: [{ type: 'slow-disk' }] }, 'inline');
    const graph = await buildGraph(resolveGraphSpec(config, 'inline', registry), { dataDir: dataDir(), log: createMemoryLogger() });
    let ended = false;
    const running = graph.run().then(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 'frame N\n' is 8 bytes: one handed over, the second waits at the bound, the third passes
    // it: its packet's buffers stay out, and the live chain lets nothing more in meanwhile.
    expect(written).toEqual(['frame 0\n']);
    expect(released).toBeLessThan(FRAMES);
    const heldBack = FRAMES - released;
    expect(heldBack).toBeGreaterThan(0);
    expect(ended).toBe(false);

    // The consumer catches up: the held buffers come back and the stream ends.
    while (!ended || held.length > 0) {
      held.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(FRAMES);
    // Every frame was either written, in order, or dropped at the door and counted there.
    const stats = graph.metrics.snapshot().find((s) => s.stream === 'cam')!;
    expect(written.length + stats.dropped).toBe(FRAMES);
    expect(stats.dropped).toBeGreaterThan(0);
    const seqs = written.map((line) => Number(line.split(' ')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await graph.stop();
  });
});
