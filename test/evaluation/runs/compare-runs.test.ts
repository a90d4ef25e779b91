/** Two runs' --events files compared frame by frame: hand-made records whose answer can be counted. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../../../evaluation/runs/compare-runs.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-compare-runs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const car = (x: number, trackId: number) => ({ className: 'car', isThing: true, area: 100, bbox: [x, 0, 10, 10], trackId });
const road = (area: number) => ({ className: 'road', isThing: false, area, bbox: [0, 50, 100, 50] });
const frame = (seq: number, segments: object[], counts: object, lines?: object) =>
  JSON.stringify({ type: 'frame', stream: 'cam', seq, width: 100, height: 100, counts, segments, ...(lines ? { lines } : {}) });

function events(name: string, lines: string[]): string {
  const file = path.join(scratch, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('compareRuns', () => {
  it('matches things per frame, counts what was kept and added, id changes, stuff and line totals', () => {
    const line = (n: number) => ({ road: { in: { car: n }, out: {} } });
    const first = events('first.jsonl', [
      frame(0, [car(0, 1), car(50, 2), road(5000)], { car: 2 }),
      JSON.stringify({ type: 'line', name: 'road' }), // event records are skipped
      frame(1, [car(2, 1), car(52, 2), road(5000)], { car: 2 }, line(1)),
      frame(2, [car(4, 1)], { car: 1 }, line(2)),
    ]);
    const second = events('second.jsonl', [
      frame(0, [car(0, 7), car(50, 8), car(80, 9), road(5200)], { car: 3 }),
      // Track 1 of the first run is now followed by 8: one id change.
      frame(1, [car(2, 8), car(52, 7), road(5000)], { car: 2 }, line(1)),
      frame(3, [car(4, 1)], { car: 1 }, line(3)),
    ]);
    const report = compareRuns(first, second, 0.5);
    expect(report.frames).toEqual({ compared: 2, onlyFirst: 1, onlySecond: 1 });
    expect(report.things).toMatchObject({ first: 4, second: 5, matched: 4, kept: 1, added: 1, meanIou: 1 });
    expect(report.idChanges).toBe(2);
    expect(report.stuff).toEqual({ maxCoverageDifference: 0.02, worstClass: 'road' });
    expect(report.countsDiffer).toBe(1);
    expect(report.lines).toEqual({ road: { first: { in: 2, out: 0 }, second: { in: 3, out: 0 } } });
    expect(report.worstFrames).toEqual([{ stream: 'cam', seq: 0, unmatched: 1 }]);
  });

  it('a car moved beyond the IoU is lost and added, not kept', () => {
    const first = events('a.jsonl', [frame(0, [car(0, 1)], { car: 1 })]);
    const second = events('b.jsonl', [frame(0, [car(6, 1)], { car: 1 })]);
    expect(compareRuns(first, second, 0.5).things).toMatchObject({ matched: 0, kept: 0, added: 1 });
    expect(compareRuns(first, second, 0.2).things).toMatchObject({ matched: 1, kept: 1, added: 0 });
  });

  it('names a file that is not an --events file', () => {
    const bad = events('bad.jsonl', ['not json']);
    const empty = events('empty.jsonl', [JSON.stringify({ type: 'line' })]);
    expect(() => compareRuns(bad, bad)).toThrow(/bad\.jsonl line 1: not JSON/);
    expect(() => compareRuns(empty, empty)).toThrow(/empty\.jsonl: no frame record/);
  });
});
