import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { FramePacket } from '../frame.ts';

/**
 * What a flow limiter does about a frame that stays in flight too long: a stage that never
 * releases a frame's packet would otherwise hold its place in the chain for ever, and a live
 * stream would freeze without a word.
 */
export interface FrameWatchdog {
  /** Milliseconds a frame may stay in flight; past that it is reported and its place given to the next frame. */
  readonly timeoutMs: number;
  /** Receives each frame given up on, while whatever holds it still does (say where, count it). */
  readonly onTimeout: (packet: FramePacket, heldMs: number) => void;
  /** Receives a frame given up on when its packet is released at last, `heldMs` after it was let in. */
  readonly onLateRelease?: (packet: FramePacket, heldMs: number) => void;
  /** Where the timers run; `asyncScheduler` (real time) unless a test passes a virtual one. */
  readonly scheduler?: SchedulerLike;
}

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
 * With a `watchdog`, a frame still in flight `timeoutMs` after it was let in is handed to
 * `onTimeout` and its place goes to the next frame; its packet's later release, if it comes, frees
 * nothing a second time. The frame's own buffers stay with whatever holds it (a model thread may
 * still be reading them). Frames are watched while the limiter runs: not after it has ended or
 * been unsubscribed.
 *
 * ```
 * source:   -ab--------c-|          maxInFlight 1, timeoutMs 5; a is never released
 * result:   -a----b----c-|          (b goes in when the watchdog gives up on a)
 * ```
 *
 * Callbacks that throw send their error down the stream, as in RxJS's own operators.
 *
 * @param onDrop Receives each frame replaced before it was let in (count it, free its buffers).
 * @param watchdog Gives up on frames held too long (see {@link FrameWatchdog}); none when omitted.
 */
export function flowLimiter(
  maxInFlight: number,
  onDrop: (packet: FramePacket) => void,
  watchdog?: FrameWatchdog,
): MonoTypeOperatorFunction<FramePacket> {
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a whole number of at least 1, got ${maxInFlight}`);
  if (watchdog && !(watchdog.timeoutMs > 0)) throw new RangeError(`the watchdog's timeoutMs must be above 0, got ${watchdog.timeoutMs}`);
  const scheduler = watchdog?.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<FramePacket>((subscriber) => {
      let inFlight = 0;
      let waiting: FramePacket | undefined;
      let sourceEnd: { error?: unknown; failed: boolean } | undefined;
      let stopped = false;
      const alarms = new Set<Subscription>();

      const guarded = (callback: () => void): void => {
        try {
          callback();
        } catch (err) {
          subscriber.error(err);
        }
      };

      const endIfDone = () => {
        if (!sourceEnd || waiting) return;
        if (sourceEnd.failed) subscriber.error(sourceEnd.error);
        else subscriber.complete();
      };

      const letIn = (packet: FramePacket): void => {
        inFlight++;
        const letInAt = scheduler.now();
        let left = false;
        let givenUp = false;
        // Frees the frame's place, once: when its packet is released or when the watchdog gives up on it.
        const leave = () => {
          if (left) return;
          left = true;
          if (alarm) {
            alarm.unsubscribe();
            alarms.delete(alarm);
          }
          inFlight--;
          if (stopped || !waiting) return;
          const next = waiting;
          waiting = undefined;
          letIn(next);
          endIfDone();
        };
        const admitted: FramePacket = { ...packet, leases: [...packet.leases, () => release()] };
        const release = () => {
          if (givenUp) {
            givenUp = false; // a second release is not late again
            guarded(() => watchdog?.onLateRelease?.(admitted, scheduler.now() - letInAt));
          }
          leave();
        };
        const alarm = watchdog
          ? scheduler.schedule(() => {
              givenUp = true;
              guarded(() => watchdog.onTimeout(admitted, scheduler.now() - letInAt));
              leave();
            }, watchdog.timeoutMs)
          : undefined;
        if (alarm) alarms.add(alarm);
        subscriber.next(admitted);
      };

      const upstream = source.subscribe({
        next: (packet) => {
          if (inFlight < maxInFlight) return letIn(packet);
          const replaced = waiting;
          waiting = packet;
          if (replaced) guarded(() => onDrop(replaced));
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
        for (const alarm of alarms) alarm.unsubscribe();
        alarms.clear();
        const abandoned = waiting;
        waiting = undefined;
        // Still handed to onDrop so its buffers are freed. The stream has ended by now, so a
        // throw here has nowhere to go.
        try {
          if (abandoned) onDrop(abandoned);
        } catch {
          /* ignored: see above */
        }
      };
    });
}
