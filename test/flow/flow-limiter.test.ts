import { asyncScheduler, EMPTY, map, NEVER, tap, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { packetOf, releasePacket, type FramePacket } from '../../pipeline/frame.ts';
import { FirstStageExit, flowLimiter, FLOW_LIMITER_WAIT, type FrameWatchdog } from '../../pipeline/flow/flow-limiter.ts';
import { latestWins } from '../../pipeline/flow/latest-wins.ts';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Frames named by letter; `released` counts each frame's source lease. */
function frames(letters: string, released: Record<string, number>): Record<string, FramePacket> {
  return Object.fromEntries(
    [...letters].map((letter, seq) => [
      letter,
      packetOf({ stream: 'cam', seq, ptsMs: seq * 40, width: 1, height: 1, data: new Uint8Array(3), capturedAtMs: 0 }, [
        () => (released[letter] = (released[letter] ?? 0) + 1),
      ]),
    ]),
  );
}

const letterOf = (packet: FramePacket) => 'abcdefgh'[packet.frame.seq]!;

/** The rest of the chain, standing in: holds each frame for `frames` virtual frames, then lets it go. */
const heldFor = (frames: number) => (packets: Observable<FramePacket>) =>
  packets.pipe(tap((packet) => timer(frames).subscribe(() => releasePacket(packet))), map(letterOf));

/**
 * The rest of the chain, standing in, with a holding time per frame: a frame missing from `frames`
 * is never released, as by a stage that forgets it.
 */
const heldPerFrame = (frames: Readonly<Record<string, number>>) => (packets: Observable<FramePacket>) =>
  packets.pipe(
    tap((packet) => {
      const held = frames[letterOf(packet)];
      if (held !== undefined) timer(held).subscribe(() => releasePacket(packet));
    }),
    map(letterOf),
  );

/** A watchdog that records what it reports, as `letter@heldMs`. */
function recordingWatchdog(timeoutMs: number): FrameWatchdog & { readonly timedOut: string[]; readonly late: string[] } {
  const timedOut: string[] = [];
  const late: string[] = [];
  return {
    timeoutMs,
    onTimeout: (packet, heldMs) => timedOut.push(`${letterOf(packet)}@${heldMs}`),
    onLateRelease: (packet, heldMs) => late.push(`${letterOf(packet)}@${heldMs}`),
    timedOut,
    late,
  };
}

describe('flowLimiter (virtual time)', () => {
  it('lets one frame in at a time, and the newest waiting one when it leaves', () => {
    const released: Record<string, number> = {};
    const dropped: string[] = [];
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abc------d---|', frames('abcd', released));
      const result = source.pipe(flowLimiter(1, (p) => (dropped.push(letterOf(p)), releasePacket(p))), heldFor(4));
      expectObservable(result).toBe('-a---c----d---|');
    });
    expect(dropped).toEqual(['b']);
    // Every frame's buffers went back once: b when dropped, the others when they left.
    expect(released).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  });

  it('lets several in with a larger maxInFlight', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abc------|', frames('abc', {}));
      const result = source.pipe(flowLimiter(2, () => expect.unreachable()), heldFor(4));
      expectObservable(result).toBe('-ab--c----|'); // c waits for a to leave
    });
  });

  it('passes every frame when the chain keeps up', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a---b---c|', frames('abc', {}));
      expectObservable(source.pipe(flowLimiter(1, () => expect.unreachable()), heldFor(2))).toBe('-a---b---c|');
    });
  });

  it('lets the waiting frame in before passing on the end of the source, or its error', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('-ab|', frames('ab', {})).pipe(flowLimiter(1, () => expect.unreachable()), heldFor(3))).toBe('-a--(b|)');
      expectObservable(hot('-ab#', frames('ab', {})).pipe(flowLimiter(1, () => expect.unreachable()), heldFor(3))).toBe('-a--(b#)');
    });
  });

  it('gives back the waiting frame when unsubscribed, and lets nothing in after', () => {
    const released: Record<string, number> = {};
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab-----c', frames('abc', released));
      const result = source.pipe(flowLimiter(1, releasePacket), heldFor(4));
      expectObservable(result, '^--!').toBe('-a--');
    });
    // b was waiting when the chain stopped; a left later, which let nothing in.
    expect(released).toEqual({ a: 1, b: 1 });
  });

  it('completes at once on an empty source', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(EMPTY.pipe(flowLimiter(1, () => expect.unreachable()))).toBe('|');
      expectObservable(cold<FramePacket>('---|').pipe(flowLimiter(1, () => expect.unreachable()))).toBe('---|');
    });
  });

  it('never completes on a never-ending source, and keeps letting frames in', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      expectObservable(NEVER.pipe(flowLimiter(1, () => expect.unreachable()))).toBe('');
      const source = hot('-a--b--c--d--', frames('abcd', {}));
      expectObservable(source.pipe(flowLimiter(1, () => expect.unreachable()), heldFor(2))).toBe('-a--b--c--d--');
    });
  });

  it('sends an error thrown by onDrop down the stream, and still frees the frame left waiting', () => {
    const released: Record<string, number> = {};
    newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-abc---', frames('abc', released));
      const onDrop = (packet: FramePacket) => {
        releasePacket(packet);
        if (letterOf(packet) === 'b') throw new Error('counter broke');
      };
      // a is in flight, b waits, c replaces b: onDrop(b) throws.
      expectObservable(source.pipe(flowLimiter(1, onDrop), heldFor(10))).toBe('-a-#', undefined, new Error('counter broke'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    // b by the throwing onDrop, c (waiting when the stream failed) by onDrop at teardown; a is
    // still held by the rest of the chain, which lets it go later.
    expect(released).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('refuses a maxInFlight below one', () => {
    expect(() => flowLimiter(0, () => {})).toThrow(/maxInFlight must be a whole number of at least 1, got 0/);
  });
});

describe('flowLimiter watchdog (virtual time)', () => {
  it('gives up on a frame never released, reports it, and lets the next frame in', () => {
    const watchdog = recordingWatchdog(5);
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab--------c-|', frames('abc', {}));
      const result = source.pipe(flowLimiter(1, () => expect.unreachable(), watchdog), heldPerFrame({ b: 2, c: 1 }));
      expectObservable(result).toBe('-a----b----c-|');
    });
    expect(watchdog.timedOut).toEqual(['a@5']);
    expect(watchdog.late).toEqual([]);
  });

  it('keeps giving up on frames a stage never releases, and the stream goes on', () => {
    const watchdog = recordingWatchdog(3);
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abcdefg------|', frames('abcdefg', {}));
      // Nothing is ever released: one frame goes in every 3 frames, the newest there is.
      const result = source.pipe(flowLimiter(1, () => {}, watchdog), heldPerFrame({}));
      expectObservable(result).toBe('-a--d--g------|');
    });
    expect(watchdog.timedOut).toEqual(['a@3', 'd@3', 'g@3']);
  });

  it('does not count a late release a second time: the frames in flight stay bounded', () => {
    const watchdog = recordingWatchdog(6);
    newScheduler().run(({ hot, expectObservable }) => {
      // a is released at 13, long after the watchdog gave up on it at 7. c is in flight from 10
      // to 15: d, arriving at 14, must wait for c, as it would if a's late release freed a place.
      const source = hot('-ab-------c---d-|', frames('abcd', {}));
      const result = source.pipe(flowLimiter(1, () => expect.unreachable(), watchdog), heldPerFrame({ a: 12, b: 2, c: 5, d: 1 }));
      expectObservable(result).toBe('-a-----b--c----d|');
    });
    expect(watchdog.timedOut).toEqual(['a@6']);
    expect(watchdog.late).toEqual(['a@12']);
  });

  it('leaves alone a frame released in time', () => {
    const watchdog = recordingWatchdog(4);
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a---b---c|', frames('abc', {}));
      expectObservable(source.pipe(flowLimiter(1, () => expect.unreachable(), watchdog), heldFor(3))).toBe('-a---b---c|');
    });
    expect(watchdog.timedOut).toEqual([]);
  });

  it('gives up on each of several frames in flight on its own clock', () => {
    const watchdog = recordingWatchdog(4);
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abcd-----|', frames('abcd', {}));
      // a never leaves; b leaves at 3, so c goes in then; d waits for a's place, freed at 5.
      const result = source.pipe(flowLimiter(2, () => expect.unreachable(), watchdog), heldPerFrame({ b: 1, c: 3, d: 1 }));
      expectObservable(result).toBe('-abc-d----|');
    });
    expect(watchdog.timedOut).toEqual(['a@4']);
  });

  it('stops watching when unsubscribed', () => {
    const watchdog = recordingWatchdog(5);
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a------------', frames('a', {}));
      expectObservable(source.pipe(flowLimiter(1, () => {}, watchdog), heldPerFrame({})), '^--!').toBe('-a--');
    });
    expect(watchdog.timedOut).toEqual([]);
  });

  it('sends an error thrown by onTimeout down the stream', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a----b---', frames('ab', {}));
      const watchdog: FrameWatchdog = {
        timeoutMs: 3,
        onTimeout: () => {
          throw new Error('log closed');
        },
      };
      expectObservable(source.pipe(flowLimiter(1, () => {}, watchdog), heldPerFrame({}))).toBe('-a--#', undefined, new Error('log closed'));
    });
  });

  it('refuses a timeout that is not above zero', () => {
    expect(() => flowLimiter(1, () => {}, { timeoutMs: 0, onTimeout: () => {} })).toThrow(/timeoutMs must be above 0, got 0/);
  });
});

describe('flowLimiter with a first-stage limit: stages overlap (virtual time)', () => {
  /**
   * A live chain standing in for the default one: the models (first stage) take 5 frames, fusion,
   * tracking and drawing take 3 more; each is a latest-wins stage as in frame-stage.ts. The sink
   * releases each packet. Returns when each frame went into the models, the stages' drops, the
   * order the later stage saw, and how long each frame waited at the door.
   */
  function liveChain(maxInFlight: number, firstStageMax: number | undefined, released: Record<string, number>) {
    const enteredModels: string[] = [];
    const stageDrops: string[] = [];
    const postOrder: string[] = [];
    const doorWaits: Record<string, number> = {};
    const limiterDrops: string[] = [];
    const exit = new FirstStageExit();
    const stage = (ticks: number, seen?: string[]) =>
      latestWins(
        (packet: FramePacket) =>
          timer(ticks).pipe(
            map(() => packet),
            tap({ subscribe: () => seen?.push(letterOf(packet)) }),
          ),
        (dropped: FramePacket) => (stageDrops.push(letterOf(dropped)), releasePacket(dropped)),
      );
    const chain = (source: Observable<FramePacket>) =>
      source.pipe(
        flowLimiter(
          maxInFlight,
          (p) => (limiterDrops.push(letterOf(p)), releasePacket(p)),
          undefined,
          firstStageMax === undefined ? undefined : { maxInFlight: firstStageMax, exit },
        ),
        tap((packet) => {
          enteredModels.push(`${letterOf(packet)}@${asyncScheduler.now()}`);
          doorWaits[letterOf(packet)] = packet.waits?.[FLOW_LIMITER_WAIT] ?? Number.NaN;
        }),
        stage(5),
        tap((packet) => exit.exited(packet.frame)),
        stage(3, postOrder),
        tap(releasePacket),
        map(letterOf),
      );
    return { chain, enteredModels, stageDrops, postOrder, doorWaits, limiterDrops, exit, released };
  }

  const source = '-a--b--c--d--e-|';

  it("starts the next frame's models as this frame leaves them, while it is fused, tracked and drawn", () => {
    const released: Record<string, number> = {};
    const live = liveChain(2, 1, released);
    newScheduler().run(({ hot, expectObservable }) => {
      const frames$ = hot(source, frames('abcde', released));
      // a: models 1-6, the rest 6-9; b goes in at 6 (as a leaves the models) and is out at 14;
      // c is replaced by d at the door while b is in the models; e waits for d to leave them.
      expectObservable(live.chain(frames$)).toBe('---------a----b----d----(e|)');
    });
    // The models never sit idle once busy: each frame goes in as the one before leaves them.
    expect(live.enteredModels).toEqual(['a@1', 'b@6', 'd@11', 'e@16']);
    expect(live.doorWaits).toEqual({ a: 0, b: 2, d: 1, e: 3 });
    // Dropped at the door only, never inside the chain; the later stage sees the frames in order.
    expect(live.limiterDrops).toEqual(['c']);
    expect(live.stageDrops).toEqual([]);
    expect(live.postOrder).toEqual(['a', 'b', 'd', 'e']);
    expect(released).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    expect(live.exit.size).toBe(0);
  });

  it('compared with one frame in flight: the next frame waits for the sinks, and fewer frames get through', () => {
    const released: Record<string, number> = {};
    const live = liveChain(1, undefined, released);
    newScheduler().run(({ hot, expectObservable }) => {
      // a: 1-9; c goes in at 9 (b replaced), out at 17; e goes in at 17 (d replaced), out at 25.
      expectObservable(live.chain(hot(source, frames('abcde', released)))).toBe('---------a-------c-------(e|)');
    });
    expect(live.limiterDrops).toEqual(['b', 'd']);
    expect(live.stageDrops).toEqual([]);
    expect(released).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
  });

  it('never queues a second frame inside the models, even with more in flight allowed', () => {
    const released: Record<string, number> = {};
    const live = liveChain(3, 1, released);
    newScheduler().run(({ hot, expectObservable }) => {
      expectObservable(live.chain(hot(source, frames('abcde', released)))).toBe('---------a----b----d----(e|)');
    });
    expect(live.stageDrops).toEqual([]);
    expect(live.limiterDrops).toEqual(['c']);
  });

  it('frees the first stage for a frame released inside it (skipped by the models)', () => {
    const released: Record<string, number> = {};
    const exit = new FirstStageExit();
    newScheduler().run(({ hot, expectObservable }) => {
      const frames$ = hot('-ab-----|', frames('ab', released));
      // a is skipped by the models at 3 (released without leaving them): b goes in then.
      const result = frames$.pipe(
        flowLimiter(2, () => expect.unreachable(), undefined, { maxInFlight: 1, exit }),
        tap((packet) => timer(2).subscribe(() => releasePacket(packet))),
        map(letterOf),
      );
      expectObservable(result).toBe('-a-b----|');
    });
    expect(released).toEqual({ a: 1, b: 1 });
    expect(exit.size).toBe(0);
  });

  it("refuses a first stage's maxInFlight below one", () => {
    expect(() => flowLimiter(2, () => {}, undefined, { maxInFlight: 0, exit: new FirstStageExit() })).toThrow(
      /first stage's maxInFlight must be a whole number of at least 1, got 0/,
    );
  });
});
