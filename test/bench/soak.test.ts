/**
 * The soak bench in short (`panoptes bench --soak N [--live]` runs it for thousands of frames):
 * the default config on the real clip and models, paced like a camera. Every decoded frame is
 * either through the graph or counted as a drop, and memory is sampled while the graph runs,
 * the last frame's too (after the graph stops, its pools are already given back). No memory
 * figure is asserted: a run this short says nothing about a leak; the bench's long run does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchSoak } from '../../bench/soak.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';

const CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs/dashcam.yaml');
const DECODED = 40;

describe('soak bench, live', () => {
  it('accounts for every decoded frame and samples memory while the graph runs', async () => {
    const progress: string[] = [];
    const soak = await benchSoak({ config: CONFIG, frames: DECODED, sampleEvery: 4, live: true }, createMemoryLogger(), (line) => progress.push(line));

    expect(soak.failures).toEqual([]);
    expect(soak.live).toBe(true);
    expect(soak.errors).toBe(0);
    expect(soak.inOrder).toBe(true);
    // Paced at 25 fps: what the models cannot take is dropped at the door, counted; none is lost.
    expect(soak.frames).toBeGreaterThan(0);
    expect(soak.frames + soak.drops).toBe(DECODED);
    // One sample at the start, one every 4 frames, and the last frame's, taken as it left the graph.
    const taken = soak.samples.map((s) => s.frames);
    expect(taken[0]).toBe(0);
    expect(taken.at(-1)).toBe(soak.frames);
    expect(taken.filter((n) => n > 0 && n % 4 === 0)).toEqual(Array.from({ length: Math.floor(soak.frames / 4) }, (_, i) => (i + 1) * 4));
    expect(soak.samples.every((s) => s.rssMB > 0 && s.seconds <= soak.seconds + 0.1)).toBe(true);
    expect(progress.length).toBe(Math.floor(soak.frames / 4));
  });
});
