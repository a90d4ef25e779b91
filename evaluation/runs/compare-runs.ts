/**
 * Two runs of the same frames compared frame by frame (the regression check a testbed runs on
 * every build: a recorded drive through the old build and the new one): their `--events` files,
 * one record per processed frame.
 *
 * - **Things:** per frame and class, the thing segments of the two runs matched one to one, the
 *   highest IoU first, at `iouThreshold`; `kept` is the share of the first run's things the
 *   second still finds, `added` the second run's things the first did not have.
 * - **Identities:** a matched pair whose first-run track keeps one second-run track from frame
 *   to frame agrees; each change of partner is an `idChange` (as an id switch, between runs).
 * - **Stuff:** the share of the frame each stuff class covers, its largest difference.
 * - **Counts and lines:** frames whose counts per class differ, and each line's last totals.
 */
import { readFileSync } from 'node:fs';
import { fromXywh, type Box } from '../../lib/geometry/box.ts';
import { matchBoxes } from '../instance/match-boxes.ts';

interface SegmentLine {
  readonly className: string;
  readonly isThing: boolean;
  readonly area: number;
  readonly bbox: readonly [number, number, number, number];
  readonly trackId?: number;
}

interface FrameLine {
  readonly type: 'frame';
  readonly stream: string;
  readonly seq: number;
  readonly width: number;
  readonly height: number;
  readonly counts?: Readonly<Record<string, number>>;
  readonly segments: readonly SegmentLine[];
  readonly lines?: Readonly<Record<string, { readonly in: Readonly<Record<string, number>>; readonly out: Readonly<Record<string, number>> }>>;
}

export interface RunComparison {
  readonly frames: { readonly compared: number; readonly onlyFirst: number; readonly onlySecond: number };
  readonly things: {
    readonly first: number;
    readonly second: number;
    readonly matched: number;
    /** Matched over the first run's things. */
    readonly kept: number;
    /** The second run's things the first did not have. */
    readonly added: number;
    readonly meanIou: number;
    readonly byClass: Readonly<Record<string, { readonly first: number; readonly second: number; readonly matched: number }>>;
  };
  readonly idChanges: number;
  readonly stuff: { readonly maxCoverageDifference: number; readonly worstClass: string | null };
  readonly countsDiffer: number;
  readonly lines: Readonly<Record<string, { readonly first: { in: number; out: number }; readonly second: { in: number; out: number } }>>;
  /** The frames where the runs differ most (things not matched), worst first, at most 5. */
  readonly worstFrames: readonly { readonly stream: string; readonly seq: number; readonly unmatched: number }[];
}

/** The frame records of an `--events` file, by `stream:seq` (event records are skipped). */
export function readFrameRecords(file: string): Map<string, FrameLine> {
  const frames = new Map<string, FrameLine>();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let record: { type?: unknown };
      try {
        record = JSON.parse(text) as { type?: unknown };
      } catch {
        throw new Error(`${file} line ${i + 1}: not JSON (an --events file holds one JSON object a line)`);
      }
      if (record.type !== 'frame') return;
      const frame = record as FrameLine;
      if (!Array.isArray(frame.segments)) throw new Error(`${file} line ${i + 1}: a frame record without segments`);
      frames.set(`${frame.stream}:${frame.seq}`, frame);
    });
  if (frames.size === 0) throw new Error(`${file}: no frame record (is it an --events file?)`);
  return frames;
}

const sum = (counts: Readonly<Record<string, number>> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** Matches the things of one frame pair one to one per class, highest IoU first. */
function matchThings(first: readonly SegmentLine[], second: readonly SegmentLine[], iouThreshold: number) {
  const boxes = (list: readonly SegmentLine[]): Box[] => list.map((s) => fromXywh(...s.bbox));
  return matchBoxes(boxes(first), boxes(second), iouThreshold, (a, b) => first[a]!.className === second[b]!.className);
}

export function compareRuns(firstFile: string, secondFile: string, iouThreshold = 0.5): RunComparison {
  const first = readFrameRecords(firstFile);
  const second = readFrameRecords(secondFile);
  const byClass: Record<string, { first: number; second: number; matched: number }> = {};
  const classTotals = (name: string) => (byClass[name] ??= { first: 0, second: 0, matched: 0 });
  let firstThings = 0;
  let secondThings = 0;
  let matchedThings = 0;
  let iouSum = 0;
  let idChanges = 0;
  let countsDiffer = 0;
  let maxCoverageDifference = 0;
  let worstClass: string | null = null;
  const partner = new Map<string, number>();
  const worst: { stream: string; seq: number; unmatched: number }[] = [];
  const keys = [...first.keys()].filter((k) => second.has(k));
  keys.sort((x, y) => {
    const [sx, qx] = [first.get(x)!.stream, first.get(x)!.seq];
    const [sy, qy] = [first.get(y)!.stream, first.get(y)!.seq];
    return sx === sy ? qx - qy : sx < sy ? -1 : 1;
  });
  for (const key of keys) {
    const a = first.get(key)!;
    const b = second.get(key)!;
    const thingsA = a.segments.filter((s) => s.isThing);
    const thingsB = b.segments.filter((s) => s.isThing);
    for (const s of thingsA) classTotals(s.className).first++;
    for (const s of thingsB) classTotals(s.className).second++;
    const matched = matchThings(thingsA, thingsB, iouThreshold);
    for (const { a: i, b: j, iou } of matched) {
      classTotals(thingsA[i]!.className).matched++;
      iouSum += iou;
      const [ta, tb] = [thingsA[i]!.trackId, thingsB[j]!.trackId];
      if (ta === undefined || tb === undefined) continue;
      const id = `${a.stream}:${ta}`;
      const before = partner.get(id);
      if (before !== undefined && before !== tb) idChanges++;
      partner.set(id, tb);
    }
    firstThings += thingsA.length;
    secondThings += thingsB.length;
    matchedThings += matched.length;
    const unmatched = thingsA.length + thingsB.length - 2 * matched.length;
    if (unmatched > 0) worst.push({ stream: a.stream, seq: a.seq, unmatched });
    const pixels = Math.max(1, a.width * a.height);
    const coverage = (frame: FrameLine) => {
      const of: Record<string, number> = {};
      for (const s of frame.segments) if (!s.isThing) of[s.className] = (of[s.className] ?? 0) + s.area / pixels;
      return of;
    };
    const [ca, cb] = [coverage(a), coverage(b)];
    for (const name of new Set([...Object.keys(ca), ...Object.keys(cb)])) {
      const difference = Math.abs((ca[name] ?? 0) - (cb[name] ?? 0));
      if (difference > maxCoverageDifference) [maxCoverageDifference, worstClass] = [difference, name];
    }
    const countNames = new Set([...Object.keys(a.counts ?? {}), ...Object.keys(b.counts ?? {})]);
    if ([...countNames].some((name) => (a.counts?.[name] ?? 0) !== (b.counts?.[name] ?? 0))) countsDiffer++;
  }
  const lines: Record<string, { first: { in: number; out: number }; second: { in: number; out: number } }> = {};
  const lastOf = (frames: Map<string, FrameLine>) => [...frames.values()].filter((f) => f.lines).at(-1)?.lines ?? {};
  const [linesA, linesB] = [lastOf(first), lastOf(second)];
  for (const name of new Set([...Object.keys(linesA), ...Object.keys(linesB)])) {
    const totals = (l: (typeof linesA)[string] | undefined) => ({ in: sum(l?.in), out: sum(l?.out) });
    lines[name] = { first: totals(linesA[name]), second: totals(linesB[name]) };
  }
  worst.sort((x, y) => y.unmatched - x.unmatched);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    frames: { compared: keys.length, onlyFirst: first.size - keys.length, onlySecond: second.size - keys.length },
    things: {
      first: firstThings,
      second: secondThings,
      matched: matchedThings,
      kept: firstThings > 0 ? round(matchedThings / firstThings) : 1,
      added: secondThings - matchedThings,
      meanIou: matchedThings > 0 ? round(iouSum / matchedThings) : 0,
      byClass,
    },
    idChanges,
    stuff: { maxCoverageDifference: round(maxCoverageDifference), worstClass },
    countsDiffer,
    lines,
    worstFrames: worst.slice(0, 5),
  };
}
