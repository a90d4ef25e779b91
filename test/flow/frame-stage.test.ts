/**
 * The frame stage every node's per-frame work goes through: leases given back exactly once,
 * newest-wins drops on live streams, every frame in order on lossless ones, and a frame whose work
 * fails skipped, not fatal. Work is a promise (as inference is), which RxJS's TestScheduler cannot
 * drive, so timing is checked in virtual time with vitest's fake timers instead of marbles.
 */
import { lastValueFrom, of, Subject, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { packetOf, releasePacket, type FramePacket } from '../../pipeline/frame.ts';
import { FrameAlreadyReported, frameStage, type FrameWork } from '../../pipeline/flow/frame-stage.ts';
import { chainContext } from '../helpers/data-dir.ts';

/** A frame whose source lease counts how often it was given back. */
function frame(seq: number, released: number[]): FramePacket {
  return packetOf({ stream: 'test', seq, ptsMs: seq * 40, width: 1, height: 1, data: new Uint8Array(3), capturedAtMs: 0 }, [
    () => (released[seq] = (released[seq] ?? 0) + 1),
  ]);
}

/** Work that takes `ms` of (virtual) time and hands the packet on. */
const takes =
  (ms: number): FrameWork =>
  (packet) =>
    new Promise((resolve) => setTimeout(() => resolve(packet), ms));

/** Frames `0..n-1` sent into `input` at the given virtual times (ms from now). */
function sendAt(input: Subject<FramePacket>, times: readonly number[], released: number[], thenComplete?: number): void {
  times.forEach((at, seq) => setTimeout(() => input.next(frame(seq, released)), at));
  if (thenComplete !== undefined) setTimeout(() => input.complete(), thenComplete);
}

describe('frameStage timing (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs `stage` over frames sent at `times`, returning `seq@ms` for each frame out and whether it completed. */
  async function timeline(stage: ReturnType<typeof frameStage>, times: readonly number[], released: number[], runMs: number) {
    const start = Date.now();
    const input = new Subject<FramePacket>();
    const out: string[] = [];
    let completed = false;
    stage(input).subscribe({
      next: (packet) => {
        out.push(`${packet.frame.seq}@${Date.now() - start}`);
        releasePacket(packet);
      },
      complete: () => (completed = true),
    });
    sendAt(input, times, released, times[times.length - 1]! + 1);
    await vi.advanceTimersByTimeAsync(runMs);
    return { out, completed };
  }

  it('records how long each frame waited before the stage took it (live and lossless)', async () => {
    for (const lossless of [false, true]) {
      const stage = frameStage(chainContext({ label: 'slow-stage', lossless }), takes(30));
      const input = new Subject<FramePacket>();
      const waits: number[] = [];
      stage(input).subscribe((packet) => {
        waits.push(packet.waits?.['slow-stage'] ?? Number.NaN);
        releasePacket(packet);
      });
      // 0 goes in at once; 1 comes at 10 and waits until 0 is done at 30.
      sendAt(input, [0, 10], [], 11);
      await vi.advanceTimersByTimeAsync(100);
      expect(waits, lossless ? 'lossless' : 'live').toEqual([0, 20]);
    }
  });

  it('live: one frame at work and the newest waiting; each replaced frame is counted as a drop and given back', async () => {
    const ctx = chainContext({ label: 'slow-stage', lossless: false });
    const released: number[] = [];
    // Frames every 10 ms, work 25 ms: 1 is replaced by 2 while 0 is at work; 3 waits for 2.
    const { out, completed } = await timeline(frameStage(ctx, takes(25)), [0, 10, 20, 30], released, 200);
    expect(out).toEqual(['0@25', '2@50', '3@75']);
    expect(completed).toBe(true);
    expect(ctx.metrics.snapshot()[0]!.drops).toEqual({ 'slow-stage': 1 });
    expect(released).toEqual([1, 1, 1, 1]);
  });

  it('lossless: every frame, in order, one at a time; nothing dropped', async () => {
    const ctx = chainContext({ label: 'slow-stage', lossless: true });
    const released: number[] = [];
    const { out, completed } = await timeline(frameStage(ctx, takes(25)), [0, 10, 20, 30], released, 200);
    expect(out).toEqual(['0@25', '1@50', '2@75', '3@100']);
    expect(completed).toBe(true);
    expect(ctx.metrics.snapshot()).toEqual([]); // nothing counted at all
    expect(released).toEqual([1, 1, 1, 1]);
  });

  it('lossless with losslessConcurrency: the next frames start early, and still leave in order', async () => {
    const ctx = chainContext({ label: 'slow-stage', lossless: true });
    const released: number[] = [];
    // Frame 0 takes 40 ms, the others 15. Two at once: 1 works from 10 to 25 and waits for 0;
    // 2 arrives at 20 and starts at 25, when 1 is done; 3 starts at 40, when 0 and 2 are.
    const work: FrameWork = (packet) => takes(packet.frame.seq === 0 ? 40 : 15)(packet);
    const { out } = await timeline(frameStage(ctx, work, { losslessConcurrency: 2 }), [0, 10, 20, 30], released, 200);
    expect(out).toEqual(['0@40', '1@40', '2@40', '3@55']);
    expect(released).toEqual([1, 1, 1, 1]);
  });

  it('live: a frame whose work fails is skipped and the waiting one goes in at once', async () => {
    const ctx = chainContext({ label: 'flaky', lossless: false });
    const released: number[] = [];
    const work: FrameWork = async (packet) => {
      await takes(25)(packet);
      if (packet.frame.seq === 0) throw new Error('model failed');
      return packet;
    };
    const { out } = await timeline(frameStage(ctx, work), [0, 10], released, 200);
    expect(out).toEqual(['1@50']);
    expect(ctx.metrics.snapshot()[0]).toMatchObject({ errors: 1, dropped: 0 });
    expect(released).toEqual([1, 1]);
  });
});

describe('frameStage leases and errors', () => {
  it('hands on the work\'s packet with its leases, and the frame\'s, without giving any back', async () => {
    const ctx = chainContext();
    const released: number[] = [];
    let extra = 0;
    const stage = frameStage(ctx, (packet) => ({ ...packet, leases: [...packet.leases, () => extra++] }));
    const [out] = await lastValueFrom(of(frame(0, released)).pipe(stage, toArray()));
    expect(out!.leases).toHaveLength(2);
    expect(released).toEqual([]);
    releasePacket(out!);
    expect(released).toEqual([1]);
    expect(extra).toBe(1);
  });

  it('logs a failing frame with its seq and message, counts it, gives it back once, and goes on', async () => {
    const ctx = chainContext({ label: 'decoder' });
    const released: number[] = [];
    const stage = frameStage(ctx, (packet) => {
      if (packet.frame.seq === 1) throw new Error('corrupt frame');
      return packet;
    });
    const passed = await lastValueFrom(of(frame(0, released), frame(1, released), frame(2, released)).pipe(stage, toArray()));
    expect(passed.map((p) => p.frame.seq)).toEqual([0, 2]);
    expect(released).toEqual([undefined, 1]); // 0 and 2 are still with the receiver
    expect(ctx.metrics.snapshot()[0]!.errors).toBe(1);
    expect(ctx.log.lines).toEqual(['error [panoptes] frame 1 skipped (1 so far): corrupt frame']);
  });

  it('logs the first three failures, then one in a hundred, and counts every one', async () => {
    const ctx = chainContext();
    const released: number[] = [];
    const stage = frameStage(ctx, (packet) => {
      throw new Error(`bad frame ${packet.frame.seq}`);
    });
    const frames = Array.from({ length: 250 }, (_, seq) => frame(seq, released));
    expect(await lastValueFrom(of(...frames).pipe(stage, toArray()))).toEqual([]);
    expect(ctx.metrics.snapshot()[0]!.errors).toBe(250);
    expect(ctx.log.lines.map((line) => line.replace(/^error \[panoptes\] /, ''))).toEqual([
      'frame 0 skipped (1 so far): bad frame 0',
      'frame 1 skipped (2 so far): bad frame 1',
      'frame 2 skipped (3 so far): bad frame 2',
      'frame 99 skipped (100 so far): bad frame 99',
      'frame 199 skipped (200 so far): bad frame 199',
    ]);
    expect(released).toEqual(Array(250).fill(1));
  });

  it('skips a frame already reported (FrameAlreadyReported) without counting or logging it again', async () => {
    const ctx = chainContext();
    const released: number[] = [];
    const stage = frameStage(ctx, () => {
      throw new FrameAlreadyReported('a branch said so');
    });
    expect(await lastValueFrom(of(frame(0, released)).pipe(stage, toArray()))).toEqual([]);
    expect(ctx.metrics.snapshot()).toEqual([]);
    expect(ctx.log.lines).toEqual([]);
    expect(released).toEqual([1]);
  });

  it('stopped while a frame is at work, gives it back only when the work settles, with what the work took', async () => {
    const ctx = chainContext({ lossless: false });
    const released: number[] = [];
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    let taken = 0;
    const stage = frameStage(ctx, async (packet) => {
      await gate;
      return { ...packet, leases: [...packet.leases, () => taken++] };
    });
    const received: FramePacket[] = [];
    const input = new Subject<FramePacket>();
    const subscription = stage(input).subscribe((packet) => received.push(packet));
    input.next(frame(0, released));
    input.next(frame(1, released)); // waiting: given back at once when the stage stops
    await Promise.resolve();
    subscription.unsubscribe();
    expect(released).toEqual([undefined, 1]); // frame 0 may still be read by the work
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    expect(released).toEqual([1, 1]);
    expect(taken).toBe(1);
  });

  it('stopped after a frame\'s work failed, gives nothing back twice', async () => {
    const ctx = chainContext({ lossless: false });
    const released: number[] = [];
    let fail!: () => void;
    const gate = new Promise<void>((resolve) => (fail = resolve));
    const stage = frameStage(ctx, async () => {
      await gate;
      throw new Error('late failure');
    });
    const input = new Subject<FramePacket>();
    const subscription = stage(input).subscribe();
    input.next(frame(0, released));
    await Promise.resolve();
    subscription.unsubscribe();
    fail();
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual([1]);
    // The stream had stopped: a failure nobody waits for is not counted as a frame error.
    expect(ctx.metrics.snapshot()).toEqual([]);
  });
});
