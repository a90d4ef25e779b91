/**
 * A MOTChallenge-size tracking result to score, from a fixed seed so runs compare: `frames`
 * frames of `objects` walkers as ground truth, and predictions with misses, id swaps, jitter and
 * false alarms. Timed by the bench (bench/mot-eval.bench.ts) and scored by the MOT tests.
 */
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
