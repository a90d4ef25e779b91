import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { mergeMapInOrder } from '../../pipeline/flow/merge-map-in-order.ts';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('mergeMapInOrder (virtual time)', () => {
  it('starts work ahead but lets results out in the order of the values', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const durations: Record<string, string> = { a: '-----(x|)', b: '-(x|)', c: '-(x|)' };
      const source = hot('-a-b-c-----|');
      const result = source.pipe(mergeMapInOrder((v) => cold(durations[v]!, { x: v.toUpperCase() }), 2));
      // b is done at 4 but waits for a (done at 6); c starts at 5, in the place b freed, and
      // is done at 6 too: all three leave at 6, in order.
      expectObservable(result).toBe('------(ABC)|');
    });
  });

  it('with concurrency 1 is concatMap, and passes on empty inners', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('-ab---|');
      const result = source.pipe(mergeMapInOrder((v) => (v === 'a' ? cold('--|') : cold('--(x|)', { x: v })), 1));
      expectObservable(result).toBe('-----b|');
    });
  });

  it('hands results that were done but not yet out to onDiscard when unsubscribed', () => {
    const discarded: string[] = [];
    const a = new Subject<string>();
    const source = new Subject<string>();
    const seen: string[] = [];
    const subscription = source
      .pipe(mergeMapInOrder((v) => (v === 'a' ? a : [v.toUpperCase()]), 2, (r) => discarded.push(r)))
      .subscribe((r) => seen.push(r));
    source.next('a'); // still working
    source.next('b'); // done at once, waits for a
    subscription.unsubscribe();
    expect(seen).toEqual([]);
    expect(discarded).toEqual(['B']);
  });
});
