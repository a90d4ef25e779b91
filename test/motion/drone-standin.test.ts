/**
 * configs/aerial-cars.yaml on a drone clip. The data directory has none, so the clip is a
 * STAND-IN drawn by ffmpeg (testing/drone-standin.ts): 1080p, 36 cars of 9-15 px in view on
 * an eight-lane highway, a drifting camera, sensor noise, every car's path known. The shipped
 * config runs on it end to end through the CLI, and what it tracks is scored against those paths.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fromXywh } from '../../lib/geometry/box.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import type { LineEvent } from '../../pipeline/analytics-types.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { lineCrossings, scoreStandinFrame, STANDIN_FPS, STANDIN_SECONDS, STANDIN_SETTLED_FRAME, STANDIN_WIDTH, writeDroneStandin } from '../../testing/drone-standin.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-drone-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SECONDS = STANDIN_SECONDS;
const SCORED_FROM = STANDIN_SETTLED_FRAME;

describe('configs/aerial-cars.yaml on a stand-in drone clip', () => {
  it('tracks well over a dozen small cars in every frame once settled, and counts them across its line', { timeout: 600_000 }, () => {
    const clip = path.join(scratch, 'drone.mp4');
    writeDroneStandin(clip, SECONDS);
    const events = path.join(scratch, 'drone.jsonl');
    execFileSync(
      process.execPath,
      [path.join(REPO, 'bin/panoptes.js'), 'run', 'configs/aerial-cars.yaml', '--source', clip, '--no-realtime', '--events', events, '--port', '0'],
      { cwd: REPO, env: { ...process.env, PANOPTES_DATA: dataDir() }, stdio: 'pipe' },
    );
    const records = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FrameRecord | LineEvent);
    const frames = records.filter((r): r is FrameRecord => r.type === 'frame');
    expect(frames).toHaveLength(SECONDS * STANDIN_FPS);

    let found = 0;
    let wrong = 0;
    let missed = 0;
    const confirmedPerFrame: number[] = [];
    for (const frame of frames.filter((f) => f.seq >= SCORED_FROM)) {
      const confirmed = frame.segments.filter((s) => s.trackState === 'confirmed');
      confirmedPerFrame.push(confirmed.length);
      const score = scoreStandinFrame(confirmed.map((s) => fromXywh(...s.bbox)), frame.seq);
      found += score.found;
      wrong += score.wrong;
      missed += score.missed;
    }
    const lineX = STANDIN_WIDTH / 2;
    const truthCrossings = lineCrossings(lineX, SCORED_FROM, frames.length - 1);
    const totals = (seq: number) => frames.find((f) => f.seq === seq)!.lines!.crossing!;
    const counted = {
      right: (totals(frames.length - 1).in.car ?? 0) - (totals(SCORED_FROM).in.car ?? 0),
      left: (totals(frames.length - 1).out.car ?? 0) - (totals(SCORED_FROM).out.car ?? 0),
    };
    const recall = found / (found + missed);
    const precision = found / (found + wrong);
    console.log(
      `drone stand-in: confirmed cars per frame ${Math.min(...confirmedPerFrame)}-${Math.max(...confirmedPerFrame)}; ` +
        `recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)} (${found}/${wrong}/${missed}); ` +
        `line: counted right ${counted.right} left ${counted.left}, truth right ${truthCrossings.right} left ${truthCrossings.left}`,
    );
    // "Well over a dozen per frame": 30-38 measured of the 36 in view (motion in brightness and in
    // colour: the red cars are as bright as the asphalt; grey alone found 22-30).
    expect(Math.min(...confirmedPerFrame)).toBeGreaterThanOrEqual(25);
    expect(precision).toBeGreaterThan(0.9);
    // Ground the drift brings into view is judged only after its own warm-up: 0.90 measured.
    // Drawn, so cleaner than any real clip: the config is tuned against real footage (persistence,
    // jitter radius), which costs the stand-in a little recall. Its figures prove the code runs, not that it sees.
    expect(recall).toBeGreaterThan(0.7);
    // The line follows the cars: no crossing counted that did not happen, most of them counted.
    expect(counted.right).toBeLessThanOrEqual(truthCrossings.right);
    expect(counted.left).toBeLessThanOrEqual(truthCrossings.left);
    expect(counted.right + counted.left).toBeGreaterThanOrEqual(0.8 * (truthCrossings.right + truthCrossings.left));
  });
});
