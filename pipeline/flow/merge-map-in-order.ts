import { defer, from, map, mergeMap, toArray, type ObservableInput, type OperatorFunction } from 'rxjs';
import { finalize } from 'rxjs/operators';

/**
 * Projects each value to an inner observable with at most `concurrency` inners running at once,
 * and forwards their results in the order of the values: work on the next value starts before
 * the result of the previous one is out, yet nothing leaves out of order.
 *
 * <span class="informal">`concatMap` that starts up to `concurrency` values ahead.</span>
 *
 * ```
 * source:  -a-b-c-----|        concurrency 2; a takes 5 frames, b 1, c 1
 * result:  ------(ABC)|       (B and C are done early, and wait for A)
 * ```
 *
 * @param onDiscard Receives each result that was done but not yet forwarded when the output was
 *   unsubscribed (free its buffers).
 * @see {@link https://rxjs.dev/api/operators/mergeMap}
 */
export function mergeMapInOrder<T, R>(
  project: (value: T) => ObservableInput<R>,
  concurrency: number,
  onDiscard: (result: R) => void = () => {},
): OperatorFunction<T, R> {
  return (source) =>
    defer(() => {
      const done = new Map<number, R[]>();
      let next = 0;
      return source.pipe(
        mergeMap((value, index) => from(project(value)).pipe(toArray(), map((results) => ({ index, results }))), concurrency),
        mergeMap(({ index, results }) => {
          done.set(index, results);
          const ready: R[] = [];
          for (let out = done.get(next); out; out = done.get(next)) {
            ready.push(...out);
            done.delete(next++);
          }
          return ready;
        }),
        finalize(() => {
          for (const results of done.values()) results.forEach(onDiscard);
          done.clear();
        }),
      );
    });
}
