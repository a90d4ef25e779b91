import { concatMap, defer, EMPTY, from, type Observable, type OperatorFunction } from 'rxjs';
import { catchError, filter, finalize, tap } from 'rxjs/operators';
import { releasePacket, type FramePacket } from '../frame.ts';
import type { ChainContext } from '../node.ts';
import { latestWins } from './latest-wins.ts';

/**
 * Per-frame work of a node: sync or async, returning the packet with its section added, or
 * `undefined` when the frame is skipped for a reason already reported (a parallel stage whose
 * branch failed on it: the branch logged and counted the failure).
 */
export type FrameWork = (packet: FramePacket) => FramePacket | undefined | Promise<FramePacket | undefined>;

/**
 * Turns per-frame work into the node's operator, with the policies every stage shares:
 *
 * - **live** streams: at most one frame in the stage and one waiting; a newer frame replaces the
 *   waiting one, which is counted as a drop at this stage and its buffers freed ({@link latestWins});
 * - **lossless** streams (`ctx.lossless`): every frame, in order; the source's buffer pool is what
 *   bounds the queue in front of the stage;
 * - a frame whose work throws is logged, counted as an error and skipped: one bad frame does not
 *   end the stream;
 * - a frame that does not come out (failed, or abandoned when the stream stops) has its buffers
 *   given back.
 */
export function frameStage(ctx: ChainContext, work: FrameWork): OperatorFunction<FramePacket, FramePacket> {
  let failures = 0;
  const attempt = (packet: FramePacket): Observable<FramePacket> => {
    let delivered = false;
    return defer(() => from(Promise.resolve(work(packet)))).pipe(
      filter((result): result is FramePacket => result !== undefined),
      tap(() => (delivered = true)),
      catchError((err: unknown) => {
        failures++;
        ctx.metrics.error(ctx.stream);
        // The first failures say what went wrong; after that, one line per hundred keeps the log readable.
        if (failures <= 3 || failures % 100 === 0) {
          const message = err instanceof Error ? err.message : String(err);
          ctx.log.error(`frame ${packet.frame.seq} skipped (${failures} so far): ${message}`);
        }
        return EMPTY;
      }),
      finalize(() => {
        if (!delivered) releasePacket(packet);
      }),
    );
  };
  if (ctx.lossless) return concatMap(attempt);
  return latestWins(attempt, (dropped) => {
    ctx.metrics.drop(ctx.stream, ctx.label);
    releasePacket(dropped);
  });
}
