/**
 * The benchmark's only sink: it keeps, per processed packet, when it arrived, its latency from
 * decode and its per-node timings, and nothing of the frame itself (so it costs next to nothing
 * and holds no buffer). Registered under {@link PROBE_SINK_TYPE} in a registry of its own.
 */
import { z } from 'zod';
import type { FramePacket } from '../pipeline/frame.ts';
import { defineSink, type SinkNode } from '../pipeline/node.ts';

export const PROBE_SINK_TYPE = 'bench-probe';

export interface PacketSample {
  readonly stream: string;
  readonly seq: number;
  /** `performance.now()` when the packet reached the sink. */
  readonly atMs: number;
  /** Milliseconds from the source emitting the frame to the sink (Date.now() resolution). */
  readonly latencyMs: number;
  readonly timings: Readonly<Record<string, number>>;
  /** Milliseconds the frame waited before each stage took it (the flow limiter's door included). */
  readonly waits: Readonly<Record<string, number>>;
}

export class PacketCollector {
  readonly samples: PacketSample[] = [];
  readonly ended = new Map<string, { atMs: number; error?: Error }>();
  /** Packets per stream whose seq was not greater than the one before (out of order). */
  readonly outOfOrder = new Map<string, number>();
  private readonly lastSeq = new Map<string, number>();

  /** Packets received, all streams. */
  count = 0;

  /**
   * @param onPacket called after each packet, with the running total over all streams
   * @param keepSamples false keeps only the count and the order check (a long run then holds nothing per frame)
   */
  constructor(
    private readonly onPacket?: (total: number) => void,
    private readonly keepSamples = true,
  ) {}

  record(packet: FramePacket): void {
    const { stream, seq, capturedAtMs } = packet.frame;
    const previous = this.lastSeq.get(stream);
    if (previous !== undefined && seq <= previous) this.outOfOrder.set(stream, (this.outOfOrder.get(stream) ?? 0) + 1);
    this.lastSeq.set(stream, seq);
    this.count++;
    if (this.keepSamples) {
      this.samples.push({ stream, seq, atMs: performance.now(), latencyMs: Date.now() - capturedAtMs, timings: packet.timings, waits: packet.waits ?? {} });
    }
    this.onPacket?.(this.count);
  }

  ofStream(stream: string): PacketSample[] {
    return this.samples.filter((s) => s.stream === stream);
  }
}

export function probeSink(collector: PacketCollector): SinkNode<unknown> {
  return defineSink<unknown>({
    type: PROBE_SINK_TYPE,
    description: 'benchmark probe: records latency and timings per packet',
    options: z.object({}),
    async create() {
      return {
        write: (packet) => collector.record(packet),
        streamEnded: (stream, error) => collector.ended.set(stream, { atMs: performance.now(), ...(error ? { error } : {}) }),
        close: async () => {},
      };
    },
  }) as SinkNode<unknown>;
}
