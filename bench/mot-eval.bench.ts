/**
 * How long `eval mot` takes on a sequence of MOTChallenge size: 250 frames of 24 walkers (6000
 * ground-truth rows, about 5,400 predictions with misses, id swaps, jitter and false alarms).
 * The sequence comes from a fixed seed, so runs compare.
 */
import { countSequence, sequenceMetrics } from '../evaluation/mot/evaluate.ts';
import { syntheticMotSequence } from '../testing/synthetic-mot.ts';

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
