/**
 * How long `eval mot` takes on a sequence of MOTChallenge size: 250 frames of 24 walkers (6000
 * ground-truth rows, about 5,400 predictions with misses, id swaps, jitter and false alarms).
 * The sequence comes from a fixed seed, so runs compare.
 */
import { countSequence, sequenceMetrics } from '../evaluation/mot/evaluate.ts';
import { parseMotText, type MotRows } from '../lib/formats/mot-file.ts';

export interface SyntheticMotSequence {
  readonly gt: MotRows;
  readonly pred: MotRows;
}

export function syntheticMotSequence(frames = 250, objects = 24): SyntheticMotSequence {
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gtLines: string[] = [];
  const predLines: string[] = [];
  for (let frame = 1; frame <= frames; frame++) {
    for (let id = 1; id <= objects; id++) {
      const left = 40 * id + frame * 0.7 * ((id % 3) - 1);
      const top = 100 + 15 * (id % 5);
      gtLines.push(`${frame},${id},${left},${top},35,90,1,1,1`);
      if (next() < 0.1) continue; // missed
      // Ids swap now and then, boxes jitter.
      const predId = id + 100 * Math.floor(frame / 60) * (id % 2);
      predLines.push(`${frame},${predId},${left + (next() - 0.5) * 8},${top + (next() - 0.5) * 8},35,90,0.9,-1,-1,-1`);
    }
    if (next() < 0.5) predLines.push(`${frame},9999,${next() * 1000},${next() * 500},30,80,0.3,-1,-1,-1`);
  }
  return { gt: parseMotText(gtLines.join('\n'), 'gt.txt'), pred: parseMotText(predLines.join('\n'), 'pred.txt') };
}

/** Milliseconds to score the synthetic sequence (CLEAR, identity and HOTA), best of `runs`. */
export function benchMotEval(runs = 5): { rows: number; bestMs: number } {
  const { gt, pred } = syntheticMotSequence();
  let bestMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    sequenceMetrics(countSequence(gt, pred, 0.5));
    bestMs = Math.min(bestMs, performance.now() - started);
  }
  return { rows: gt.count + pred.count, bestMs: Math.round(bestMs * 10) / 10 };
}
