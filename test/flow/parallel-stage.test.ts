/**
 * The parallel stage (fan-out, fan-in): branches see the same frame at once, the frame leaves
 * with every section they added, leases are given back exactly once, and a branch that fails on
 * a frame skips only that frame. The branches are small stand-in operators built with the real
 * frameStage; the stage's flow policy is the frame stage's, marble-tested in latest-wins.test.ts.
 */
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { packetOf, releasePacket, withSection, type FramePacket, type PanopticFrame, type SemanticLabels } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { FrameWhereabouts } from '../../pipeline/flow/frame-whereabouts.ts';
import { parallelStage, type Branch } from '../../pipeline/flow/parallel-stage.ts';
import { chainContext, type TestChainContext } from '../helpers/data-dir.ts';
import { testClassSet } from '../helpers/panoptic.ts';

/** A frame whose lease counts how often it was given back. */
function frame(seq: number, released: number[]): FramePacket {
  return packetOf({ stream: 'test', seq, ptsMs: seq * 40, width: 2, height: 1, data: new Uint8Array(6), capturedAtMs: 0 }, [
    () => (released[seq] = (released[seq] ?? 0) + 1),
  ]);
}

const semanticOf = (seq: number): SemanticLabels => ({ model: 'stand-in', width: 2, height: 1, labels: Uint8Array.of(seq, seq), classes: testClassSet(['a']) });

/** A branch adding `semantic`; `gate` lets a test hold its work until something has happened. */
function semanticBranch(ctx: TestChainContext, options: { gate?: Promise<void>; failOn?: number; leases?: number[] } = {}): Branch {
  return {
    writes: ['semantic'],
    operator: frameStage({ ...ctx, label: 'semantic' }, async (packet) => {
      await options.gate;
      if (packet.frame.seq === options.failOn) throw new Error(`model failed on frame ${packet.frame.seq}`);
      const seq = packet.frame.seq;
      const lease = () => options.leases && (options.leases[seq] = (options.leases[seq] ?? 0) + 1);
      return withSection(packet, 'semantic', semanticOf(seq), 'semantic', 1, [lease]);
    }),
  };
}

/** A branch adding `panoptic` (any section will do), telling the test when it started. */
function panopticBranch(ctx: TestChainContext, started?: () => void): Branch {
  return {
    writes: ['panoptic'],
    operator: frameStage({ ...ctx, label: 'panoptic' }, (packet) => {
      started?.();
      const panoptic: PanopticFrame = {
        width: 2,
        height: 1,
        classMap: new Uint8Array(2),
        segmentMap: new Uint32Array(2),
        segments: [],
        classes: testClassSet(['a']),
      };
      return withSection(packet, 'panoptic', panoptic, 'panoptic', 2);
    }),
  };
}

describe('parallelStage', () => {
  it('runs the branches on the same frame at once and joins their sections', async () => {
    const ctx = chainContext({ label: 'models' });
    let panopticStarted!: () => void;
    // The semantic branch waits until the panoptic branch has started on the same frame: if the
    // branches ran one after the other, this would never finish.
    const gate = new Promise<void>((resolve) => (panopticStarted = resolve));
    const released: number[] = [];
    const stage = parallelStage(ctx, [semanticBranch(ctx, { gate }), panopticBranch(ctx, () => panopticStarted())]);
    const [out] = await lastValueFrom(from([frame(0, released)]).pipe(stage, toArray()));
    expect(out!.semantic!.labels).toEqual(Uint8Array.of(0, 0));
    expect(out!.panoptic!.width).toBe(2);
    expect(out!.timings).toEqual({ semantic: 1, panoptic: 2 });
    expect(released[0]).toBeUndefined(); // still held by whoever receives it
    releasePacket(out!);
    expect(released[0]).toBe(1);
  });

  it('keeps every frame, in order, on a lossless stream, and gives each lease back once', async () => {
    const ctx = chainContext({ label: 'models', lossless: true });
    const released: number[] = [];
    const branchLeases: number[] = [];
    const stage = parallelStage(ctx, [semanticBranch(ctx, { leases: branchLeases }), panopticBranch(ctx)]);
    const out = await lastValueFrom(from(Array.from({ length: 20 }, (_, seq) => frame(seq, released))).pipe(stage, toArray()));
    expect(out.map((p) => p.frame.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(out.every((p, i) => p.semantic!.labels[0] === i && p.panoptic !== undefined)).toBe(true);
    out.forEach(releasePacket);
    expect(released).toEqual(Array(20).fill(1));
    expect(branchLeases).toEqual(Array(20).fill(1));
  });

  it('skips only the frame a branch fails on, counts it once and gives back what the other branch took', async () => {
    const ctx = chainContext({ label: 'models', lossless: true });
    const released: number[] = [];
    const branchLeases: number[] = [];
    const stage = parallelStage(ctx, [semanticBranch(ctx, { failOn: 2, leases: branchLeases }), panopticBranch(ctx)]);
    const out = await lastValueFrom(from(Array.from({ length: 5 }, (_, seq) => frame(seq, released))).pipe(stage, toArray()));
    expect(out.map((p) => p.frame.seq)).toEqual([0, 1, 3, 4]);
    // Frame 2 was given back by the stage; the others are still out with the receiver.
    expect(released).toEqual([undefined, undefined, 1]);
    out.forEach(releasePacket);
    expect(released).toEqual([1, 1, 1, 1, 1]);
    expect(branchLeases).toEqual([1, 1, undefined, 1, 1]);
    expect(ctx.metrics.snapshot()[0]!.errors).toBe(1);
    expect(ctx.log.lines.filter((l) => l.includes('model failed on frame 2'))).toHaveLength(1);
  });

  it('on a live stream, drops waiting frames as one stage, under its own label', async () => {
    const ctx = chainContext({ label: 'models', lossless: false });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const released: number[] = [];
    const frames = new Subject<FramePacket>();
    const done = lastValueFrom(frames.pipe(parallelStage(ctx, [semanticBranch(ctx, { gate }), panopticBranch(ctx)]), toArray()));
    // Frame 0 is in the stage (held by the gate); 1, 2 and 3 arrive meanwhile: 3 wins.
    for (let seq = 0; seq < 4; seq++) frames.next(frame(seq, released));
    frames.complete();
    open();
    const out = await done;
    expect(out.map((p) => p.frame.seq)).toEqual([0, 3]);
    expect(out.every((p) => p.semantic && p.panoptic)).toBe(true);
    expect(ctx.metrics.snapshot()[0]!.drops).toEqual({ models: 2 });
    expect(released).toEqual([undefined, 1, 1]);
  });

  it('stopped mid-frame, gives the frame back only when the branches are done, with what they took', async () => {
    const ctx = chainContext({ label: 'models', lossless: false });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const released: number[] = [];
    const branchLeases: number[] = [];
    const frames = new Subject<FramePacket>();
    const received: FramePacket[] = [];
    const subscription = frames
      .pipe(parallelStage(ctx, [semanticBranch(ctx, { gate, leases: branchLeases }), panopticBranch(ctx)]))
      .subscribe((packet) => received.push(packet));
    frames.next(frame(0, released));
    await new Promise((resolve) => setImmediate(resolve));
    subscription.unsubscribe(); // the stream stops while the semantic branch still works on frame 0
    expect(released[0]).toBeUndefined(); // a model thread could still be reading it
    open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    expect(released[0]).toBe(1);
    expect(branchLeases[0]).toBe(1);
  });

  it('tells the whereabouts which branches are still working on a frame', async () => {
    const ctx = chainContext({ label: 'models' });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const whereabouts = new FrameWhereabouts();
    const packet = frame(0, []);
    whereabouts.handedTo(packet.frame, 'models');
    const branches = [{ ...semanticBranch(ctx, { gate }), label: 'semantic' }, { ...panopticBranch(ctx), label: 'panoptic' }];
    const done = lastValueFrom(from([packet]).pipe(parallelStage(ctx, branches, whereabouts), toArray()));
    await new Promise((resolve) => setImmediate(resolve));
    // The panoptic branch is done; the semantic one waits at the gate.
    expect(whereabouts.describe(packet.frame)).toBe('models (semantic still working)');
    open();
    const [out] = await done;
    expect(whereabouts.describe(packet.frame)).toBe('models');
    releasePacket(out!);
  });
});
