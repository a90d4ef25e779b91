import { lastValueFrom, of, type OperatorFunction } from 'rxjs';
import { mergeSections, releasePacket, type FramePacket, type PacketSection } from '../frame.ts';
import type { ChainContext } from '../node.ts';
import { FrameAlreadyReported, frameStage } from './frame-stage.ts';
import type { FrameWhereabouts } from './frame-whereabouts.ts';

/** One node of a parallel stage: its operator and the sections it adds or rewrites. */
export interface Branch {
  /** The node's label, naming it in reports of where a frame is held; `branch <n>` when omitted. */
  readonly label?: string;
  readonly writes: readonly PacketSection[];
  readonly operator: OperatorFunction<FramePacket, FramePacket>;
}

/**
 * Lossless streams: frames in the block at once, so that one frame's inputs are prepared while
 * the previous frame's models run (they still leave in order).
 */
const LOSSLESS_FRAMES_AT_ONCE = 2;

/**
 * Fan-out and fan-in: every branch works on the same frame at once, and the frame goes on when
 * all of them are done, with every section they added.
 *
 * ```
 *             ┌─► semantic-segmentation ─┐
 *   packet ───┤                          ├──► packet + semantic + instances
 *             └─► instance-segmentation ─┘
 * ```
 *
 * Two models that each run on their own thread then cost a frame the slower of the two, not the
 * sum (unless `inferenceSchedule: exclusive` makes all models take turns). The stage as a whole
 * is one frame stage (latest wins on live streams; on lossless ones two frames at once, leaving
 * in order), so the branches always see the same frames and never drop on their own. The config
 * resolver makes sure no two branches write the same section and none reads what another writes.
 *
 * A branch gets a copy of the packet without its leases: only this stage gives the frame's
 * buffers back, once every branch is done with them. If a branch skips a frame (it failed on it,
 * and said so), the frame is skipped and what the other branches took for it is given back.
 *
 * @param whereabouts Told which branches are still working on each frame, for the watchdog's
 *   report of where a frame is held.
 */
export function parallelStage(
  ctx: ChainContext,
  branches: readonly Branch[],
  whereabouts?: FrameWhereabouts,
): OperatorFunction<FramePacket, FramePacket> {
  const labels = branches.map((branch, i) => branch.label ?? `branch ${i + 1}`);
  return frameStage(ctx, async (packet) => {
    const shared: FramePacket = { ...packet, leases: [] };
    const working = new Set(labels);
    whereabouts?.branchesWorking(packet.frame, labels);
    const settled = await Promise.allSettled(
      branches.map((branch, i) =>
        lastValueFrom(of(shared).pipe(branch.operator), { defaultValue: undefined }).finally(() => {
          working.delete(labels[i]!);
          whereabouts?.branchesWorking(packet.frame, [...working]);
        }),
      ),
    );
    const results = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    if (results.some((result) => result === undefined)) {
      for (const result of results) if (result) releasePacket(result);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      throw failed ? failed.reason : new FrameAlreadyReported(`frame ${packet.frame.seq} skipped by a branch`);
    }
    return results.reduce<FramePacket>((merged, result, i) => mergeSections(merged, result!, branches[i]!.writes), packet);
  }, { losslessConcurrency: LOSSLESS_FRAMES_AT_ONCE });
}
