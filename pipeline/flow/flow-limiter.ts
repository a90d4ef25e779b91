import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { FramePacket } from '../frame.ts';

/**
 * Lets at most `maxInFlight` frames into the rest of a chain at once, keeping only the newest
 * frame that arrives meanwhile; every frame it replaces is handed to `onDrop`.
 *
 * <span class="informal">MediaPipe's FlowLimiterCalculator for a whole chain: a frame is in
 * flight from the moment it is let in until its packet is released (by the graph after the
 * sinks, or by whichever stage skipped or dropped it).</span>
 *
 * ```
 * source:   -a-b-c-d-------e-|      maxInFlight 1, each frame takes 4 frames to leave
 * result:   -a---c---d-----e-|      (b dropped: replaced by c while a was in flight)
 * ```
 *
 * With one frame in flight, the next frame's inference never competes with this frame's fusion,
 * drawing and sending for the cores, and it starts on the newest frame there is: the lowest
 * latency a live stream can get. More in flight overlaps the stages (more throughput where there
 * are cores to spare, more latency on a small machine). Completion and errors from the source
 * wait until the waiting frame has been let in.
 *
 * @param onDrop Receives each frame replaced before it was let in (count it, free its buffers).
 */
export function flowLimiter(maxInFlight: number, onDrop: (packet: FramePacket) => void): MonoTypeOperatorFunction<FramePacket> {
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a whole number of at least 1, got ${maxInFlight}`);
  return (source) =>
    new Observable<FramePacket>((subscriber) => {
      let inFlight = 0;
      let waiting: FramePacket | undefined;
      let sourceEnd: { error?: unknown; failed: boolean } | undefined;
      let stopped = false;

      const endIfDone = () => {
        if (!sourceEnd || waiting) return;
        if (sourceEnd.failed) subscriber.error(sourceEnd.error);
        else subscriber.complete();
      };

      const letIn = (packet: FramePacket): void => {
        inFlight++;
        let left = false;
        const leave = () => {
          if (left) return;
          left = true;
          inFlight--;
          if (stopped || !waiting) return;
          const next = waiting;
          waiting = undefined;
          letIn(next);
          endIfDone();
        };
        subscriber.next({ ...packet, leases: [...packet.leases, leave] });
      };

      const upstream = source.subscribe({
        next: (packet) => {
          if (inFlight < maxInFlight) return letIn(packet);
          const replaced = waiting;
          waiting = packet;
          if (replaced) onDrop(replaced);
        },
        error: (error: unknown) => {
          sourceEnd = { error, failed: true };
          endIfDone();
        },
        complete: () => {
          sourceEnd = { failed: false };
          endIfDone();
        },
      });

      return () => {
        stopped = true;
        upstream.unsubscribe();
        const abandoned = waiting;
        waiting = undefined;
        if (abandoned) onDrop(abandoned);
      };
    });
}
