/**
 * The source life cycle in virtual time: restarts after exponential backoff (capped, with jitter),
 * give-up after tries or time, stall detection (first frame and running), and nothing left
 * scheduled after unsubscribe. Each attempt is a cold observable standing in for one ffmpeg run.
 */
import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, giveUpReason, reconnectOptions } from '../../nodes/sources/reconnect-policy.ts';
import { superviseSource, type SourceBeat, type StateChange, type SuperviseOptions } from '../../nodes/sources/supervise-source.ts';

const frame = (value: string): SourceBeat<string> => ({ kind: 'frame', value });
const alive: SourceBeat<string> = { kind: 'alive' };
const beats = { a: frame('a'), b: frame('b'), c: frame('c'), d: frame('d'), z: alive };

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const policy = (overrides: Record<string, unknown> = {}) =>
  reconnectOptions.parse({ initialDelayMs: 10, factor: 2, maxDelayMs: 25, jitter: 0, ...overrides });

/** Supervises `attempts` in turn (the last one repeats); records every state change. */
function supervise(testScheduler: TestScheduler, attempts: Observable<SourceBeat<string>>[], options: Partial<SuperviseOptions>) {
  const changes: StateChange[] = [];
  let started = 0;
  const output$ = superviseSource(
    () => attempts[Math.min(started++, attempts.length - 1)]!,
    { reconnect: policy(), startTimeoutMs: 8, scheduler: testScheduler, ...options },
    (change) => changes.push(change),
  );
  return { output$, changes, started: () => started };
}

describe('superviseSource', () => {
  it('restarts a source that dies, after waits that double up to the cap, and counts the time down', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, changes } = supervise(testScheduler, [cold('a-#', beats), cold('#'), cold('#'), cold('#'), cold('b-', beats)], {});
      // a at 0; dies at 2; restarts wait 10, 20, 25 (capped), 25: the fifth attempt runs at 82.
      expectObservable(output$, '^ 100ms !').toBe('a 81ms b', { a: 'a', b: 'b' });
      testScheduler.flush();
      expect(changes.map((c) => [c.state, c.delayMs, c.attempt, c.downMs])).toEqual([
        ['starting', undefined, undefined, undefined],
        ['running', undefined, undefined, undefined],
        ['reconnecting', 10, 1, undefined],
        ['reconnecting', 20, 2, undefined],
        ['reconnecting', 25, 3, undefined],
        ['reconnecting', 25, 4, undefined],
        ['running', undefined, undefined, 80],
      ]);
    });
  });

  it('restarts a source whose input ends, as a camera that hung up', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, changes } = supervise(testScheduler, [cold('a|', beats), cold('b|', beats), cold('c-', beats)], {});
      // a at 0, ends at 1, restart after 10; b at 11, ends at 12: a frame came, so the wait is 10 again.
      expectObservable(output$, '^ 50ms !').toBe('a 10ms b 10ms c', { a: 'a', b: 'b', c: 'c' });
      testScheduler.flush();
      expect(changes.filter((c) => c.state === 'reconnecting').map((c) => [c.reason, c.delayMs])).toEqual([
        ['the source ended', 10],
        ['the source ended', 10],
      ]);
    });
  });

  it('gives up after giveUpAfterTries restarts in a row without a frame, and fails the stream', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const died = new Error('ffmpeg exited with code 1');
      const { output$, changes } = supervise(testScheduler, [cold('a-#', beats, died), cold('#', {}, died)], {
        reconnect: policy({ giveUpAfterTries: 2 }),
      });
      const gaveUp = 'gave up after 2 restarts without a frame (giveUpAfterTries 2); the last failure: ffmpeg exited with code 1';
      // Dies at 2, restarts at 12 and 32 die at once: the third death gives up.
      expectObservable(output$).toBe('a 31ms #', { a: 'a' }, new Error(gaveUp));
      testScheduler.flush();
      expect(changes.map((c) => c.state)).toEqual(['starting', 'running', 'reconnecting', 'reconnecting', 'failed']);
      expect(changes.at(-1)!.reason).toBe(gaveUp);
    });
  });

  it('gives up once the stream has been down giveUpAfterMs', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$ } = supervise(testScheduler, [cold('a-#', beats), cold('#')], { reconnect: policy({ giveUpAfterMs: 30 }) });
      // Down from 2; deaths at 12 (10 down), 32 (30 down: gives up).
      expectObservable(output$).toBe('a 31ms #', { a: 'a' }, new Error('gave up after 30 ms without a frame (giveUpAfterMs 30); the last failure: error'));
    });
  });

  it('detects a stall, restarts the source, and reports how long it was without a frame', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const frozen = cold('a 20ms b', beats);
      const { output$, changes } = supervise(testScheduler, [frozen, cold('c-', beats)], { stallTimeoutMs: 5 });
      // a at 0, nothing more: stalled at 5, restarted after 10, c at 15.
      // (The window closes before c's attempt would stall in turn.)
      expectObservable(output$, '^ 18ms !').toBe('a 14ms c', { a: 'a', c: 'c' });
      expectSubscriptions(frozen.subscriptions).toBe('^ 4ms !');
      testScheduler.flush();
      expect(changes.map((c) => [c.state, c.reason, c.downMs])).toEqual([
        ['starting', undefined, undefined],
        ['running', undefined, undefined],
        ['stalled', 'no frame for 5 ms', undefined],
        ['reconnecting', 'no frame for 5 ms', undefined],
        ['running', undefined, 15],
      ]);
    });
  });

  it('gives a new attempt startTimeoutMs for its first frame, and counts a silent start as a stall', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, changes } = supervise(testScheduler, [cold('-'), cold('4ms a-', beats)], { stallTimeoutMs: 2 });
      // Silent until the start timeout (8), restarted at 18, first frame 4 later: slower than the stall timeout, within the start timeout.
      expectObservable(output$, '^ 22ms !').toBe('22ms a', { a: 'a' });
      testScheduler.flush();
      expect(changes.map((c) => c.reason ?? c.state)).toEqual(['starting', 'no frame within 8 ms of starting', 'no frame within 8 ms of starting', 'running']);
    });
  });

  it('takes a dropped frame as a sign of life: no stall, nothing emitted for it', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, changes } = supervise(testScheduler, [cold('a 3ms z 3ms z 3ms b-', beats)], { stallTimeoutMs: 5 });
      expectObservable(output$, '^ 15ms !').toBe('a 11ms b', { a: 'a', b: 'b' });
      testScheduler.flush();
      expect(changes.map((c) => c.state)).toEqual(['starting', 'running']);
    });
  });

  it('without reconnect: passes an end or an error through, and a stall is reported until frames come back', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const ended = supervise(testScheduler, [cold('a|', beats)], { reconnect: false });
      expectObservable(ended.output$).toBe('a|', { a: 'a' });
      const failed = supervise(testScheduler, [cold('a#', beats)], { reconnect: false });
      expectObservable(failed.output$).toBe('a#', { a: 'a' }, new Error('error'));
      const paused = supervise(testScheduler, [cold('a 9ms b|', beats)], { reconnect: false, stallTimeoutMs: 5 });
      expectObservable(paused.output$).toBe('a 9ms b|', { a: 'a', b: 'b' });
      testScheduler.flush();
      expect(paused.changes.map((c) => [c.state, c.downMs])).toEqual([
        ['starting', undefined],
        ['running', undefined],
        ['stalled', undefined],
        ['running', 10],
      ]);
    });
  });

  it('schedules nothing more once unsubscribed, not even a pending restart', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, started } = supervise(testScheduler, [cold('a-#', beats), cold('b-', beats)], {});
      expectObservable(output$, '^ 5ms !').toBe('a', { a: 'a' });
      testScheduler.flush();
      expect(started()).toBe(1);
    });
  });
});

describe('reconnect policy', () => {
  it('fills in defaults: 0.5 s doubling up to 10 s, 20% jitter, never gives up', () => {
    expect(reconnectOptions.parse({})).toEqual({ initialDelayMs: 500, factor: 2, maxDelayMs: 10_000, jitter: 0.2 });
  });

  it('shortens each wait at random by at most the jitter fraction', () => {
    const p = reconnectOptions.parse({ initialDelayMs: 1000, factor: 3, maxDelayMs: 5000, jitter: 0.5 });
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(p, n, () => 0))).toEqual([1000, 3000, 5000, 5000]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(p, n, () => 0.999999))).toEqual([500, 1500, 2500, 2500]);
  });

  it('says why it gives up, or nothing', () => {
    const p = reconnectOptions.parse({ giveUpAfterTries: 3, giveUpAfterMs: 60_000 });
    expect(giveUpReason(p, 2, 59_999)).toBeUndefined();
    expect(giveUpReason(p, 3, 0)).toBe('gave up after 3 restarts without a frame (giveUpAfterTries 3)');
    expect(giveUpReason(p, 0, 60_000)).toBe('gave up after 60000 ms without a frame (giveUpAfterMs 60000)');
  });

  it('rejects a factor below 1, a negative delay, a jitter above 1', () => {
    expect(reconnectOptions.safeParse({ factor: 0.5 }).success).toBe(false);
    expect(reconnectOptions.safeParse({ initialDelayMs: -1 }).success).toBe(false);
    expect(reconnectOptions.safeParse({ jitter: 1.5 }).success).toBe(false);
    expect(reconnectOptions.safeParse({ tries: 3 }).success).toBe(false);
  });
});
