/**
 * The life cycle of a source:
 *
 * ```
 * starting ──► running ──► stalled ──► reconnecting ──► running
 *    │            └──── died or ended ──────┘ └──► failed (gave up)
 *    └──► waiting (no frame yet: not there at start) ──► running | failed
 * ```
 *
 * A source is run as a series of attempts (one ffmpeg each). The supervisor watches the beats of
 * the current attempt, a frame or a frame the source had to drop, since both prove the input is
 * alive:
 * - until the first frame ever, an attempt that errors, ends or stays silent for `startTimeoutMs`
 *   leaves the stream **waiting**: tried again after the backoff, as after a loss, for as long as
 *   the policy allows (a camera that boots after the server joins when it comes up);
 * - once it has run, no beat for `stallTimeoutMs` (or no first beat of a restart for
 *   `startTimeoutMs`) is a **stall**: reported and counted, and, when the source may restart, the
 *   attempt is ended; the state stays `stalled` through the backoff wait, and is `reconnecting`
 *   from the moment the next attempt starts until its first frame;
 * - an attempt that errors, or completes, while the source may restart is **reconnecting**: restarted
 *   after a backoff (reconnect-policy.ts), until the policy gives up: the stream then **fails**;
 * - a source that may not restart (a plain file) passes its error or completion through.
 *
 * Every timer runs on `scheduler`, so the timing is tested in virtual time.
 */
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { SourceState } from '../../pipeline/stream-stats.ts';
import { backoffDelayMs, giveUpReason, type ReconnectPolicy } from './reconnect-policy.ts';

/** What an attempt emits: a frame for downstream, or a sign of life that carries none (a dropped frame). */
export type SourceBeat<T> = { readonly kind: 'frame'; readonly value: T } | { readonly kind: 'alive' };

export interface SuperviseOptions {
  /** How to restart, or false: an attempt's end is the stream's end. */
  readonly reconnect: ReconnectPolicy | false;
  /**
   * A running attempt without a beat for this long is stalled; undefined: never (a lossless source
   * waits on its consumer). A function is asked at each beat (a camera's rate is known only once it answered).
   */
  readonly stallTimeoutMs?: number | undefined | (() => number | undefined);
  /** An attempt without its first beat for this long is stalled too (connecting may take a while). */
  readonly startTimeoutMs: number;
  readonly scheduler?: SchedulerLike;
  readonly random?: () => number;
}

/** A change of state, with the reason in words for the log. */
export interface StateChange {
  readonly state: SourceState;
  readonly reason?: string;
  /** Back to `running`: how long the stream went without a frame (from the death or stall). */
  readonly downMs?: number;
  /**
   * `reconnecting`, `waiting` and a `stalled` that restarts: the wait before the next attempt,
   * and which restart (or, waiting, which try) in a row it is.
   */
  readonly delayMs?: number;
  readonly attempt?: number;
  /** `reconnecting` entered as the restart after a stall begins: its wait was told with the stall. */
  readonly afterStall?: boolean;
}

/** A stall detected by the supervisor: the error of a source that may not restart. */
export class SourceStall extends Error {
  constructor(readonly silentMs: number, first: boolean) {
    super(first ? `no frame within ${silentMs} ms of starting` : `no frame for ${silentMs} ms`);
    this.name = 'SourceStall';
  }
}

/**
 * Runs `attempt` again and again as `options` say, emitting the frames of every attempt in turn.
 * `onState` hears every change of state (`starting` first).
 */
export function superviseSource<T>(
  attempt: () => Observable<SourceBeat<T>>,
  options: SuperviseOptions,
  onState: (change: StateChange) => void,
): Observable<T> {
  const scheduler = options.scheduler ?? asyncScheduler;
  return new Observable<T>((subscriber) => {
    let state: SourceState | undefined;
    let run: Subscription | undefined;
    let timer: Subscription | undefined;
    /** Bumped per attempt, so callbacks of an attempt already ended do nothing. */
    let generation = 0;
    /** Restarts in a row that brought no frame yet. */
    let restarts = 0;
    /** When the stream lost its frames (death or stall); undefined while running. */
    let downSince: number | undefined;
    /** Whether any frame (or sign of life) has come through yet: until then the stream is waiting for its input. */
    let everRan = false;
    const stallTimeout = (): number | undefined =>
      typeof options.stallTimeoutMs === 'function' ? options.stallTimeoutMs() : options.stallTimeoutMs;

    const enter = (change: StateChange) => {
      state = change.state;
      onState(change);
    };

    const watch = (ms: number | undefined, first: boolean, current: number) => {
      timer?.unsubscribe();
      timer = ms === undefined ? undefined : scheduler.schedule(() => stalled(ms, first, current), ms);
    };

    const stalled = (silentMs: number, first: boolean, current: number) => {
      if (current !== generation) return;
      const stall = new SourceStall(silentMs, first);
      // Never ran yet: the input is not there (yet), which is waiting, not a stall.
      if (!everRan && options.reconnect !== false) return endAttempt(stall);
      downSince ??= scheduler.now() - silentMs;
      if (options.reconnect === false) {
        enter({ state: 'stalled', reason: stall.message });
        return; // frames may still come back; the next beat says running
      }
      endAttempt(stall, true);
    };

    const start = (afterStall?: { reason: string; attempt: number }) => {
      const current = ++generation;
      if (afterStall) enter({ state: 'reconnecting', reason: afterStall.reason, attempt: afterStall.attempt, afterStall: true });
      const stallMs = stallTimeout();
      watch(stallMs === undefined ? undefined : Math.max(options.startTimeoutMs, stallMs), true, current);
      const subscription = attempt().subscribe({
        next: (beat) => {
          if (current !== generation) return;
          if (state !== 'running') {
            const downMs = downSince === undefined ? undefined : scheduler.now() - downSince;
            restarts = 0;
            downSince = undefined;
            everRan = true;
            enter(downMs === undefined ? { state: 'running' } : { state: 'running', downMs });
          }
          watch(stallTimeout(), false, current);
          if (beat.kind === 'frame') subscriber.next(beat.value);
        },
        error: (error: unknown) => {
          if (current === generation) endAttempt(error instanceof Error ? error : new Error(String(error)));
        },
        complete: () => {
          if (current === generation) endAttempt(undefined);
        },
      });
      // The attempt may have ended (and a restart been scheduled) while subscribing.
      if (current === generation) run = subscription;
      else subscription.unsubscribe();
    };

    /** The current attempt is over: its error (a death or a stall), or undefined for an end. */
    const endAttempt = (error: Error | undefined, stall = false) => {
      generation++;
      timer?.unsubscribe();
      run?.unsubscribe();
      run = undefined;
      if (options.reconnect === false) {
        if (error) subscriber.error(error);
        else subscriber.complete();
        return;
      }
      const now = scheduler.now();
      downSince ??= now;
      const reason = error?.message ?? 'the source ended';
      const givingUp = giveUpReason(options.reconnect, restarts, now - downSince);
      if (givingUp) {
        // The give-up first: the last failure's message may run over several lines (ffmpeg's stderr).
        enter({ state: 'failed', reason: `${givingUp}; the last failure: ${reason}` });
        subscriber.error(new Error(`${givingUp}; the last failure: ${reason}`, { cause: error }));
        return;
      }
      restarts++;
      const delayMs = backoffDelayMs(options.reconnect, restarts, options.random);
      const attempt = restarts;
      if (!everRan) {
        enter({ state: 'waiting', reason, delayMs, attempt });
        timer = scheduler.schedule(() => start(), delayMs);
      } else if (stall) {
        // Stalled through the wait; reconnecting once the next attempt starts.
        enter({ state: 'stalled', reason, delayMs, attempt });
        timer = scheduler.schedule(() => start({ reason, attempt }), delayMs);
      } else {
        enter({ state: 'reconnecting', reason, delayMs, attempt });
        timer = scheduler.schedule(() => start(), delayMs);
      }
    };

    enter({ state: 'starting' });
    start();
    return () => {
      generation++;
      timer?.unsubscribe();
      run?.unsubscribe();
    };
  });
}
