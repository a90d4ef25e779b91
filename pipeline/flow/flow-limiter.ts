import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Frame, FramePacket } from '../frame.ts';

/** The key under which a packet's `waits` holds how long it waited at the flow limiter's door. */
export const FLOW_LIMITER_WAIT = 'flow-limiter';

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
 * The first stage's door: where a chain tells its flow limiter that a frame has left the chain's
 * first stage (a `tap` right after it calls {@link FirstStageExit.exited}), so that the next frame
 * may go into that stage while this one is fused, tracked and drawn further down.
 *
 * Keyed by the frame, which every packet built from it shares (stages spread packets, they never
 * replace the frame). A frame that never comes out of the first stage (skipped, dropped) frees its
 * place there when its packet is released.
 */
export class FirstStageExit {
  private readonly inside = new Map<Frame, () => void>();

  /** The flow limiter let `frame` in; `onExit` frees its place in the first stage, once. */
  entered(frame: Frame, onExit: () => void): void {
    this.inside.set(frame, onExit);
  }

  /** `frame` left the first stage (or left the chain): its place there goes to the next frame. */
  exited(frame: Frame): void {
    const onExit = this.inside.get(frame);
    if (!onExit) return;
    this.inside.delete(frame);
    onExit();
  }

  /** Frames inside the first stage now (for tests). */
  get size(): number {
    return this.inside.size;
  }
}

/**
 * Per-stage limits of a pipelined flow limiter: at most `maxInFlight` frames in the chain's first
 * stage at once (the chain as a whole holds the limiter's own `maxInFlight`). The graph places
 * `exit`'s tap right after the first stage.
 */
export interface FirstStageLimit {
  readonly maxInFlight: number;
  readonly exit: FirstStageExit;
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
 * latency a frame can get on its own. More in flight overlaps the stages: the graph's default is
 * two, with one per stage (`firstStage` below), which on a 2-core machine gave about a fifth more
 * frames/s for the same p50 latency (docs/pipeline.md). Completion and errors from the source
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
 * With a `firstStage` limit (MediaPipe's flow limiter with a number in flight per stage), a frame
 * is also let in only while the chain's first stage holds fewer than `firstStage.maxInFlight`
 * frames: the next frame's inference starts when this one leaves the models, not when it leaves
 * the sinks, and never queues behind it inside the models. The later stages see the frames in
 * order (each one is a latest-wins stage); with `maxInFlight` 2 no stage ever holds a frame waiting
 * behind two others, so frames are still dropped only here.
 *
 * ```
 * source:   -a--b--c--d--e-|        maxInFlight 2, first stage 1 (takes 5), the rest takes 3
 * result:   -a----b----d----(e|)    (b goes in as a leaves the first stage; c replaced by d)
 * ```
 *
 * Callbacks that throw send their error down the stream, as in RxJS's own operators.
 *
 * @param onDrop Receives each frame replaced before it was let in (count it, free its buffers).
 * @param watchdog Gives up on frames held too long (see {@link FrameWatchdog}); none when omitted.
 * @param firstStage Frames in the chain's first stage at once (see {@link FirstStageLimit}); no
 *   limit but `maxInFlight` when omitted.
 */
export function flowLimiter(
  maxInFlight: number,
  onDrop: (packet: FramePacket) => void,
  watchdog?: FrameWatchdog,
  firstStage?: FirstStageLimit,
): MonoTypeOperatorFunction<FramePacket> {
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a whole number of at least 1, got ${maxInFlight}`);
  if (watchdog && !(watchdog.timeoutMs > 0)) throw new RangeError(`the watchdog's timeoutMs must be above 0, got ${watchdog.timeoutMs}`);
  if (firstStage && (!Number.isInteger(firstStage.maxInFlight) || firstStage.maxInFlight < 1)) {
    throw new RangeError(`the first stage's maxInFlight must be a whole number of at least 1, got ${firstStage.maxInFlight}`);
  }
  const scheduler = watchdog?.scheduler ?? asyncScheduler;
  const firstStageMax = firstStage?.maxInFlight ?? Number.POSITIVE_INFINITY;
  return (source) =>
    new Observable<FramePacket>((subscriber) => {
      let inFlight = 0;
      /** Frames let in that have not left the first stage yet. */
      let inFirstStage = 0;
      let waiting: FramePacket | undefined;
      /** When the waiting frame arrived at the door. */
      let waitingSince = 0;
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

      const hasRoom = () => inFlight < maxInFlight && inFirstStage < firstStageMax;

      /** Lets the waiting frame in if there is room now. */
      const admitWaiting = () => {
        if (stopped || !waiting || !hasRoom()) return;
        const next = waiting;
        waiting = undefined;
        letIn(next, scheduler.now() - waitingSince);
        endIfDone();
      };

      const letIn = (packet: FramePacket, waitedMs: number): void => {
        inFlight++;
        inFirstStage++;
        const letInAt = scheduler.now();
        let left = false;
        let leftFirstStage = false;
        let givenUp = false;
        const exitFirstStage = () => {
          if (leftFirstStage) return;
          leftFirstStage = true;
          inFirstStage--;
        };
        // Frees the frame's place, once: when its packet is released or when the watchdog gives up on it.
        const leave = () => {
          if (left) return;
          left = true;
          if (alarm) {
            alarm.unsubscribe();
            alarms.delete(alarm);
          }
          inFlight--;
          if (firstStage) firstStage.exit.exited(packet.frame);
          exitFirstStage();
          admitWaiting();
        };
        const admitted: FramePacket = {
          ...packet,
          waits: { ...packet.waits, [FLOW_LIMITER_WAIT]: waitedMs },
          leases: [...packet.leases, () => release()],
        };
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
        firstStage?.exit.entered(packet.frame, () => {
          exitFirstStage();
          admitWaiting();
        });
        subscriber.next(admitted);
      };

      const upstream = source.subscribe({
        next: (packet) => {
          if (!waiting && hasRoom()) return letIn(packet, 0);
          const replaced = waiting;
          waiting = packet;
          waitingSince = scheduler.now();
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
