/**
 * The source life cycle in virtual time: restarts after exponential backoff (capped, with jitter),
 * give-up after tries or time, stall detection (first frame and running), `stalled` held through
 * the wait and `reconnecting` from the restart on, a source not there at start `waiting` until its
 * first frame, and nothing left scheduled after unsubscribe. Each attempt is a cold observable standing in for one ffmpeg run.
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
  const changes: (StateChange & { at: number })[] = [];
  let started = 0;
  const output$ = superviseSource(
    () => attempts[Math.min(started++, attempts.length - 1)]!,
    { reconnect: policy(), startTimeoutMs: 8, scheduler: testScheduler, ...options },
    (change) => changes.push({ ...change, at: testScheduler.now() }),
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
      expect(changes.map((c) => [c.at, c.state, c.reason, c.downMs])).toEqual([
        [0, 'starting', undefined, undefined],
        [0, 'running', undefined, undefined],
        [5, 'stalled', 'no frame for 5 ms', undefined],
        [15, 'reconnecting', 'no frame for 5 ms', undefined],
        [15, 'running', undefined, 15],
      ]);
    });
  });

  it('holds stalled through the wait, then reconnecting from the restart until its first frame: running, stalled, reconnecting, running', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // a at 0, silent: stalled at 5, waits 10; the restart (15) is silent too: stalled again at
      // 23 (its start timeout, 8), waits 20; the third attempt (43) brings c at 45.
      const { output$, changes } = supervise(testScheduler, [cold('a 20ms b', beats), cold('-'), cold('--c-', beats)], { stallTimeoutMs: 5 });
      expectObservable(output$, '^ 48ms !').toBe('a 44ms c', { a: 'a', c: 'c' });
      testScheduler.flush();
      expect(changes.map((c) => [c.at, c.state, c.delayMs, c.afterStall])).toEqual([
        [0, 'starting', undefined, undefined],
        [0, 'running', undefined, undefined],
        [5, 'stalled', 10, undefined],
        [15, 'reconnecting', undefined, true],
        [23, 'stalled', 20, undefined],
        [43, 'reconnecting', undefined, true],
        [45, 'running', undefined, undefined],
      ]);
      expect(changes.find((c) => c.at === 23)!.reason).toBe('no frame within 8 ms of starting');
    });
  });

  it('a source not there at start is waiting, tried with the same backoff, until its first frame: then running', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const refused = new Error('Connection refused');
      // Refused at 0, 10 and 30 (waits 10, 20), silent from 55 until its start timeout (63), then
      // frames from the attempt at 88.
      const { output$, changes } = supervise(testScheduler, [cold('#', {}, refused), cold('#', {}, refused), cold('#', {}, refused), cold('-'), cold('a-', beats)], {
        stallTimeoutMs: 2,
      });
      expectObservable(output$, '^ 89ms !').toBe('88ms a', { a: 'a' });
      testScheduler.flush();
      expect(changes.map((c) => [c.at, c.state, c.delayMs, c.attempt, c.downMs])).toEqual([
        [0, 'starting', undefined, undefined, undefined],
        [0, 'waiting', 10, 1, undefined],
        [10, 'waiting', 20, 2, undefined],
        [30, 'waiting', 25, 3, undefined],
        [63, 'waiting', 25, 4, undefined],
        [88, 'running', undefined, undefined, 88],
      ]);
      expect(changes[1]!.reason).toBe('Connection refused');
      expect(changes[4]!.reason).toBe('no frame within 8 ms of starting');
      // Never ran: no stall in the count, and never `stalled` or `reconnecting`.
      expect(changes.some((c) => c.state === 'stalled' || c.state === 'reconnecting')).toBe(false);
    });
  });

  it('a source that never came is given up on as the policy says, from waiting', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const { output$, changes } = supervise(testScheduler, [cold('#', {}, new Error('Connection refused'))], { reconnect: policy({ giveUpAfterTries: 2 }) });
      expectObservable(output$).toBe('30ms #', {}, new Error('gave up after 2 restarts without a frame (giveUpAfterTries 2); the last failure: Connection refused'));
      testScheduler.flush();
      expect(changes.map((c) => c.state)).toEqual(['starting', 'waiting', 'waiting', 'failed']);
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
