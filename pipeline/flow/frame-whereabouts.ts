import type { Frame } from '../frame.ts';

interface Holder {
  readonly stage: string;
  /** Branches of a parallel stage still working on the frame. */
  readonly branches: readonly string[];
}

/**
 * Where each frame of a chain is: the stage it was last handed to and, inside a parallel stage,
 * the branches still working on it. The flow limiter's watchdog reads it to say which stage holds
 * a frame it gives up on.
 *
 * Keyed by the frame itself, which every packet built from it shares (stages spread packets, they
 * never replace the frame), and weakly: a frame done with is forgotten with it. One map write per
 * frame and stage; nothing per pixel.
 */
export class FrameWhereabouts {
  private readonly holders = new WeakMap<Frame, Holder>();

  /** The frame was handed to `stage` (and so left the one before). */
  handedTo(frame: Frame, stage: string): void {
    this.holders.set(frame, { stage, branches: [] });
  }

  /** Inside the stage that holds the frame, `branches` are working on it now. */
  branchesWorking(frame: Frame, branches: readonly string[]): void {
    const holder = this.holders.get(frame);
    if (holder) this.holders.set(frame, { stage: holder.stage, branches: [...branches] });
  }

  /** The stage that holds the frame, for a log line: `overlay`, or `models (semantic-segmentation still working)`. */
  describe(frame: Frame): string {
    const holder = this.holders.get(frame);
    if (!holder) return 'no stage (it was not handed to one)';
    return holder.branches.length ? `${holder.stage} (${holder.branches.join(', ')} still working)` : holder.stage;
  }
}
