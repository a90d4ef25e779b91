/** Where a frame is, as the watchdog reports it: the stage last handed the frame, and its busy branches. */
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../pipeline/frame.ts';
import { FrameWhereabouts } from '../../pipeline/flow/frame-whereabouts.ts';

const frame = (seq: number): Frame => ({ stream: 'cam', seq, ptsMs: seq * 40, width: 1, height: 1, data: new Uint8Array(3), capturedAtMs: 0 });

describe('FrameWhereabouts', () => {
  it('names the stage a frame was last handed to, per frame', () => {
    const whereabouts = new FrameWhereabouts();
    const [a, b] = [frame(0), frame(1)];
    whereabouts.handedTo(a, 'semantic-segmentation');
    whereabouts.handedTo(b, 'semantic-segmentation');
    whereabouts.handedTo(a, 'overlay');
    expect(whereabouts.describe(a)).toBe('overlay');
    expect(whereabouts.describe(b)).toBe('semantic-segmentation');
  });

  it('adds the branches still working, and forgets them when the frame moves on', () => {
    const whereabouts = new FrameWhereabouts();
    const a = frame(0);
    whereabouts.handedTo(a, 'models');
    whereabouts.branchesWorking(a, ['semantic-segmentation', 'instance-segmentation']);
    expect(whereabouts.describe(a)).toBe('models (semantic-segmentation, instance-segmentation still working)');
    whereabouts.branchesWorking(a, []);
    expect(whereabouts.describe(a)).toBe('models');
    whereabouts.branchesWorking(a, ['instance-segmentation']);
    whereabouts.handedTo(a, 'tracker');
    expect(whereabouts.describe(a)).toBe('tracker');
  });

  it('says so for a frame no stage was handed', () => {
    expect(new FrameWhereabouts().describe(frame(0))).toBe('no stage (it was not handed to one)');
  });
});
