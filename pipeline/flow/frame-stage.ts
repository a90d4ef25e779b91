import { concatMap, Observable, tap, type OperatorFunction } from 'rxjs';
import { releasePacket, type FramePacket } from '../frame.ts';
import type { ChainContext } from '../node.ts';
import { latestWins } from './latest-wins.ts';
import { mergeMapInOrder } from './merge-map-in-order.ts';

/** Per-frame work of a node: sync or async, returning the packet with its section added. */
export type FrameWork = (packet: FramePacket) => FramePacket | Promise<FramePacket>;

/**
 * Thrown by work that skips a frame for a reason already logged and counted (a parallel stage
 * whose branch failed on the frame): the frame is skipped without a second report.
 */
export class FrameAlreadyReported extends Error {
  override readonly name = 'FrameAlreadyReported';
}

/**
 * Turns per-frame work into the node's operator, with the policies every stage shares:
 *
 * - **live** streams: at most one frame in the stage and one waiting; a newer frame replaces the
 *   waiting one, which is counted as a drop at this stage and its buffers freed ({@link latestWins});
 * - **lossless** streams (`ctx.lossless`): every frame, in order (worked on one at a time, or
 *   `losslessConcurrency` at once); the source's buffer pool is what bounds the queue in front
 *   of the stage;
 * - a frame whose work throws is logged, counted as an error and skipped: one bad frame does not
 *   end the stream;
 * - a frame that does not come out (failed, or abandoned when the stream stops) has its buffers
 *   given back, but only once its work has settled: a model thread may still be reading it.
 *   What work finishing after the stream stopped took for the frame is given back too.
 */
export interface FrameStageOptions {
  /**
   * Lossless streams: frames worked on at once, still leaving in order. Above 1 for work that
   * waits on other threads, so the next frame's work starts while the previous one waits.
   */
  readonly losslessConcurrency?: number;
}

export function frameStage(ctx: ChainContext, work: FrameWork, options: FrameStageOptions = {}): OperatorFunction<FramePacket, FramePacket> {
  let failures = 0;
  const report = (packet: FramePacket, err: unknown) => {
    if (err instanceof FrameAlreadyReported) return;
    failures++;
    ctx.metrics.error(ctx.stream);
    // The first failures say what went wrong; after that, one line per hundred keeps the log readable.
    if (failures <= 3 || failures % 100 === 0) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.error(`frame ${packet.frame.seq} skipped (${failures} so far): ${message}`);
    }
  };

  // When each packet was handed to the stage, to record how long it waited before the stage took it.
  const handedAt = new WeakMap<FramePacket, number>();
  const attempt = (packet: FramePacket): Observable<FramePacket> =>
    new Observable<FramePacket>((subscriber) => {
      const takenAt = performance.now();
      const waitedMs = takenAt - (handedAt.get(packet) ?? takenAt);
      let settled = false;
      let delivered = false;
      let abandoned = false;
      const giveBack = (result?: FramePacket) => {
        releasePacket(packet);
        if (result) for (const release of result.leases) if (!packet.leases.includes(release)) release();
      };
      Promise.resolve()
        .then(() => work(packet))
        .then(
          (result) => {
            settled = true;
            if (abandoned) return giveBack(result);
            delivered = true;
            subscriber.next({ ...result, waits: { ...result.waits, [ctx.label]: waitedMs } });
            subscriber.complete();
          },
          (err: unknown) => {
            settled = true;
            if (!abandoned) report(packet, err);
            if (abandoned) giveBack();
            else subscriber.complete();
          },
        );
      return () => {
        if (delivered) return;
        if (settled) releasePacket(packet);
        else abandoned = true;
      };
    });

  const concurrency = options.losslessConcurrency ?? 1;
  const stamp = tap<FramePacket>((packet) => handedAt.set(packet, performance.now()));
  if (ctx.lossless) {
    const ordered = concurrency > 1 ? mergeMapInOrder(attempt, concurrency, releasePacket) : concatMap(attempt);
    return (packets) => ordered(stamp(packets));
  }
  const newest = latestWins(attempt, (dropped: FramePacket) => {
    ctx.metrics.drop(ctx.stream, ctx.label);
    releasePacket(dropped);
  });
  return (packets) => newest(stamp(packets));
}
