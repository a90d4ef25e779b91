import { of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { latestWins } from '../../pipeline/flow/latest-wins.ts';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('latestWins (virtual time)', () => {
  it('runs one value at a time, keeps the newest waiting value and drops the ones it replaces', () => {
    const dropped: string[] = [];
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-abc--de---|');
      const work = '      ----(x|)'; // each value takes four frames
      const expected = '  -----A---C---(E|)';
      const result = source.pipe(latestWins((v) => cold(work, { x: v.toUpperCase() }), (v) => dropped.push(v)));
      expectObservable(result).toBe(expected, { A: 'A', C: 'C', E: 'E' });
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
    expect(dropped).toEqual(['b', 'd']);
  });

  it('passes every value when the work keeps up', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('-a---b---c|');
      const result = source.pipe(latestWins((v) => cold('--(x|)', { x: v }), () => expect.unreachable()));
      expectObservable(result).toBe('---a---b---(c|)');
    });
  });

  it('handles work that finishes synchronously', () => {
    const dropped: number[] = [];
    const seen: number[] = [];
    of(1, 2, 3)
      .pipe(latestWins((v) => of(v * 10), (v) => dropped.push(v)))
      .subscribe((v) => seen.push(v));
    expect(seen).toEqual([10, 20, 30]);
    expect(dropped).toEqual([]);
  });

  it('completes at once on an empty source and never on a never-ending one', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(latestWins((v) => cold('-x|', { x: v }), () => {}))).toBe('|');
      expectObservable(cold('-').pipe(latestWins((v) => cold('-x|', { x: v }), () => {}))).toBe('-');
    });
  });

  it('finishes the running and waiting values before forwarding a source error', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const result = hot('-ab#').pipe(latestWins((v) => cold('---(x|)', { x: v }), () => expect.unreachable()));
      expectObservable(result).toBe('----a--(b#)');
    });
  });

  it('forwards an error from the work at once', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      expectObservable(hot('-a--').pipe(latestWins(() => cold('--#'), () => {}))).toBe('---#');
    });
  });

  it('drops the waiting value and stops the running work when unsubscribed early', () => {
    const dropped: string[] = [];
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const work = cold('-----x|');
      const source = hot('-ab------');
      const result = source.pipe(latestWins(() => work, (v) => dropped.push(v)));
      expectObservable(result, '^--!').toBe('---');
      expectSubscriptions(work.subscriptions).toBe('-^-!');
    });
    expect(dropped).toEqual(['b']);
  });

  it('calls onDrop, not the work, for a value replaced while waiting, even if the callback throws', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('-abc|');
      const result = source.pipe(
        latestWins(
          (v) => cold('---(x|)', { x: v }),
          () => {
            throw new Error('drop callback failed');
          },
        ),
      );
      expectObservable(result).toBe('---#', undefined, new Error('drop callback failed'));
    });
  });
});
