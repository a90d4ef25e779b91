import { map, tap, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { packetOf, releasePacket, type FramePacket } from '../../pipeline/frame.ts';
import { flowLimiter } from '../../pipeline/flow/flow-limiter.ts';

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

  it('refuses a maxInFlight below one', () => {
    expect(() => flowLimiter(0, () => {})).toThrow(/maxInFlight must be a whole number of at least 1, got 0/);
  });
});
