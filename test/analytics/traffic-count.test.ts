/**
 * The shipped traffic-count config on the real clip, every frame, against the count a person
 * made by looking at the frames (replay-data/traffic-count-ground-truth.json).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LineEvent } from '../../pipeline/analytics-types.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-traffic-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface GroundTruth {
  readonly in: number;
  readonly out: number;
  readonly vehicles: readonly { readonly what: string; readonly crossesAroundFrame: number }[];
}

const VEHICLES = ['car', 'truck', 'bus', 'motorcycle', 'bicycle'];

describe('counting vehicles on the real traffic clip', () => {
  it('counts what a person counted, at the moments they saw it', { timeout: 600_000 }, () => {
    const truth = JSON.parse(readFileSync(path.join(REPO, 'replay-data/traffic-count-ground-truth.json'), 'utf8')) as GroundTruth;
    const events = path.join(scratch, 'traffic.jsonl');
    execFileSync(
      process.execPath,
      [path.join(REPO, 'bin/panoptes.js'), 'run', 'configs/traffic-count.yaml', '--no-realtime', '--events', events, '--port', '0'],
      { cwd: REPO, env: { ...process.env, PANOPTES_DATA: dataDir() }, stdio: 'pipe' },
    );
    const records = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FrameRecord | LineEvent);
    const frames = records.filter((r): r is FrameRecord => r.type === 'frame');
    const crossings = records.filter((r): r is LineEvent => r.type === 'line');
    const totals = frames[frames.length - 1]!.lines!.road!;
    const sum = (counts: Record<string, number>) => VEHICLES.reduce((s, c) => s + (counts[c] ?? 0), 0);
    console.log(
      `traffic clip: pipeline in ${sum(totals.in)} out ${sum(totals.out)}, person in ${truth.in} out ${truth.out};`,
      crossings.map((c) => `${c.className}#${c.trackId}@${(c.ptsMs / 1000).toFixed(1)}s`).join(' '),
    );
    expect(sum(totals.in)).toBe(truth.in);
    expect(sum(totals.out)).toBe(truth.out);
    // Each counted crossing happens within a second of a crossing the person saw (24 fps).
    const fps = 24;
    for (const c of crossings) {
      const nearest = Math.min(...truth.vehicles.map((v) => Math.abs(v.crossesAroundFrame / fps - c.ptsMs / 1000)));
      expect(nearest).toBeLessThan(1);
    }
  });
});
