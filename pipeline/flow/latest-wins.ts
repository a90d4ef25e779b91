import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';

/**
 * Projects each value to an inner observable with at most one inner running, keeping only the
 * newest value that arrives meanwhile; every value it replaces is handed to `onDrop`.
 *
 * <span class="informal">`exhaustMap` that remembers the latest value it ignored: MediaPipe's
 * flow limiter with one frame in flight and one in the queue.</span>
 *
 * ```
 * source:  -a-b-c-d-------e-|
 * project: each takes 4 frames
 * result:  -----A---C---D-----E|     (b dropped: replaced by c before a finished)
 * ```
 *
 * This is how a live stream never falls behind: the inference stage is never handed more than
 * one frame to catch up on, so what it works on is at most one frame stale. Completion waits
 * for the running and the waiting value, and so does an error from the source: frames already
 * taken in are finished before the error goes on (a camera that drops out loses no frame it
 * delivered). Errors from the inner are forwarded at once.
 *
 * @param project Maps a value to the work to do for it; its emissions are forwarded in order.
 * @param onDrop Receives each value replaced before it ran (count it, free its buffers).
 * @see {@link https://rxjs.dev/api/operators/exhaustMap}
 */
export function latestWins<T, R>(
  project: (value: T) => ObservableInput<R>,
  onDrop: (value: T) => void,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let running: Subscription | undefined;
      let waiting: { value: T } | undefined;
      let sourceDone = false;
      let sourceError: { error: unknown } | undefined;

      const finish = () => (sourceError ? subscriber.error(sourceError.error) : subscriber.complete());

      const start = (value: T): void => {
        let finished = false;
        const inner = from(project(value)).subscribe({
          next: (result) => subscriber.next(result),
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            finished = true;
            running = undefined;
            const next = waiting;
            waiting = undefined;
            if (next) start(next.value);
            else if (sourceDone) finish();
          },
        });
        // A synchronous inner has already finished (and maybe started the next one) by now.
        if (!finished) running = inner;
      };

      const outer = source.subscribe({
        next: (value) => {
          // A throwing callback goes down the stream as an error, as in RxJS's own operators.
          try {
            if (!running) return start(value);
            const replaced = waiting;
            waiting = { value };
            if (replaced) onDrop(replaced.value);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => {
          sourceDone = true;
          sourceError = { error: err };
          if (!running && !waiting) finish();
        },
        complete: () => {
          sourceDone = true;
          if (!running && !waiting) finish();
        },
      });

      return () => {
        outer.unsubscribe();
        running?.unsubscribe();
        const abandoned = waiting;
        waiting = undefined;
        // Still handed to onDrop so its buffers are freed. The stream has ended by now, so a
        // throw here has nowhere to go.
        try {
          if (abandoned) onDrop(abandoned.value);
        } catch {
          /* ignored: see above */
        }
      };
    });
}
