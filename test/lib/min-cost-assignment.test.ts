/**
 * The assignment solver against brute force: on small matrices with forbidden pairs, it must find
 * as many allowed pairs as possible and, among those, the least total cost.
 */
import { describe, expect, it } from 'vitest';
import { FORBIDDEN, minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';

/** Every partial assignment of rows to distinct columns: best (most pairs, then least cost). */
function bruteForce(cost: Float64Array, rows: number, cols: number): { pairs: number; total: number } {
  let best = { pairs: 0, total: 0 };
  const usedCols = new Uint8Array(cols);
  const visit = (row: number, pairs: number, total: number): void => {
    if (row === rows) {
      if (pairs > best.pairs || (pairs === best.pairs && total < best.total - 1e-9)) best = { pairs, total };
      return;
    }
    visit(row + 1, pairs, total); // row left unassigned
    for (let c = 0; c < cols; c++) {
      const value = cost[row * cols + c]!;
      if (usedCols[c] || !Number.isFinite(value)) continue;
      usedCols[c] = 1;
      visit(row + 1, pairs + 1, total + value);
      usedCols[c] = 0;
    }
  };
  visit(0, 0, 0);
  return best;
}

function scoreOf(assignment: Int32Array, cost: Float64Array, cols: number): { pairs: number; total: number } {
  let pairs = 0;
  let total = 0;
  assignment.forEach((c, r) => {
    if (c < 0) return;
    pairs++;
    total += cost[r * cols + c]!;
  });
  return { pairs, total };
}

/** A small deterministic generator, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('minCostAssignment', () => {
  it('solves a textbook 3x3 matrix', () => {
    const cost = Float64Array.from([4, 1, 3, 2, 0, 5, 3, 2, 2]);
    const assignment = minCostAssignment(cost, 3, 3);
    expect(Array.from(assignment)).toEqual([1, 0, 2]);
    expect(scoreOf(assignment, cost, 3).total).toBe(5);
  });

  it('never assigns a forbidden pair, and leaves rows unassigned when it must', () => {
    const cost = Float64Array.from([FORBIDDEN, 0.2, FORBIDDEN, Number.NaN, FORBIDDEN, FORBIDDEN]);
    expect(Array.from(minCostAssignment(cost, 3, 2))).toEqual([1, -1, -1]);
  });

  it('prefers more pairs over a cheaper total, as py-motmetrics does', () => {
    // Row 0 alone on column 0 costs 0; but then row 1 (only allowed on column 0) is left out.
    const cost = Float64Array.from([0, 0.9, 0.5, FORBIDDEN]);
    expect(Array.from(minCostAssignment(cost, 2, 2))).toEqual([1, 0]);
  });

  it('handles empty and degenerate shapes', () => {
    expect(minCostAssignment(new Float64Array(0), 0, 4).length).toBe(0);
    expect(Array.from(minCostAssignment(new Float64Array(0), 3, 0))).toEqual([-1, -1, -1]);
    expect(Array.from(minCostAssignment(Float64Array.from([7]), 1, 1))).toEqual([0]);
    expect(() => minCostAssignment(new Float64Array(5), 2, 3)).toThrow(/5 costs for a 2x3 matrix/);
  });

  it('matches brute force on 600 random matrices up to 6x6, wide and tall, with forbidden pairs', () => {
    const next = random(12345);
    for (let trial = 0; trial < 600; trial++) {
      const rows = 1 + Math.floor(next() * 6);
      const cols = 1 + Math.floor(next() * 6);
      const forbiddenShare = next() * 0.7;
      const negative = next() < 0.3; // maximisation problems pass negated scores
      const cost = Float64Array.from({ length: rows * cols }, () => {
        if (next() < forbiddenShare) return FORBIDDEN;
        const value = Math.round(next() * 20) / 10; // ties happen
        return negative ? -value : value;
      });
      const expected = bruteForce(cost, rows, cols);
      const assignment = minCostAssignment(cost, rows, cols);
      const columns = Array.from(assignment).filter((c) => c >= 0);
      expect(new Set(columns).size).toBe(columns.length);
      const actual = scoreOf(assignment, cost, cols);
      expect(actual.pairs).toBe(expected.pairs);
      expect(actual.total).toBeCloseTo(expected.total, 9);
    }
  });
});
