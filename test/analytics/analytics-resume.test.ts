/**
 * The analytics node's `resume` option: totals saved elsewhere (a stream moved to another
 * cluster worker) are where its counts go on from.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { analytics } from '../../nodes/analytics/analytics.ts';
import { packetOf, type FrameAnalytics, type TrackedObject } from '../../pipeline/frame.ts';
import { chainContext } from '../helpers/data-dir.ts';

/** One car driving down through a horizontal line at mid-height, into a zone below it. */
async function oneCarDown(options: Record<string, unknown>): Promise<FrameAnalytics> {
  const packets = Array.from({ length: 21 }, (_, seq) => {
    const y = 150 + 10 * seq;
    const track: TrackedObject = {
      trackId: 1, state: 'confirmed', classId: 13, className: 'car', bbox: [300, y, 340, y + 30],
      score: 0.9, ageMs: seq * 40, hits: seq + 1,
    };
    const frame = { stream: 'cam', seq, ptsMs: seq * 40, width: 960, height: 540, data: new Uint8Array(0), capturedAtMs: 0 };
    return { ...packetOf(frame), tracks: [track] };
  });
  const operator = await analytics.create(analytics.options.parse(options), chainContext({ label: 'analytics' }));
  return (await lastValueFrom(from(packets).pipe(operator, toArray()))).at(-1)!.analytics!;
}

const SCENE = {
  lines: [{ name: 'stopline', points: [[0.1, 0.5], [0.9, 0.5]], in: 'down' }],
  zones: [{ name: 'bottom', polygon: [[0, 0.6], [1, 0.6], [1, 1], [0, 1]] }],
};

describe('analytics resume', () => {
  it('counts from zero without it', async () => {
    const result = await oneCarDown(SCENE);
    expect(result.lines[0]).toMatchObject({ in: { car: 1 }, out: {} });
    expect(result.zones[0]!.entered).toEqual({ car: 1 });
    expect(result.unique).toEqual({ car: 1 });
  });

  it('goes on from the saved totals', async () => {
    const result = await oneCarDown({
      ...SCENE,
      resume: {
        lines: { stopline: { in: { car: 40, truck: 2 }, out: { car: 7 } } },
        zones: { bottom: { entered: { car: 12 } } },
        unique: { car: 90, person: 3 },
      },
    });
    expect(result.lines[0]).toMatchObject({ in: { car: 41, truck: 2 }, out: { car: 7 } });
    expect(result.zones[0]!.entered).toEqual({ car: 13 });
    expect(result.unique).toEqual({ car: 91, person: 3 });
  });

  it('ignores totals of a line or zone the config no longer has', async () => {
    const result = await oneCarDown({ ...SCENE, resume: { lines: { gone: { in: { car: 5 }, out: {} } } } });
    expect(result.lines[0]).toMatchObject({ in: { car: 1 }, out: {} });
  });
});
