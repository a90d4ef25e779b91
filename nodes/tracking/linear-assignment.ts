/**
 * Minimum-cost assignment of rows to columns (the Hungarian method, O(n^3)), for a dense
 * `rows x cols` cost matrix, rectangular or square.
 *
 * Pairs whose cost is above `maxCost` (or not finite) are forbidden: the solver treats them as
 * too expensive to ever choose, and they are never returned as matches.
 *
 * @returns For each row, the column it is assigned to, or -1.
 */
export function linearAssignment(cost: Float64Array, rows: number, cols: number, maxCost = Infinity): Int32Array {
  const result = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return result;
  // Square the problem; forbidden and padding cells cost more than any sum of allowed ones.
  const n = Math.max(rows, cols);
  let largest = 0;
  for (let i = 0; i < cost.length; i++) {
    const c = cost[i]!;
    if (Number.isFinite(c) && c <= maxCost && Math.abs(c) > largest) largest = Math.abs(c);
  }
  const forbidden = (largest + 1) * (n + 1);
  const a = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = r < rows && c < cols ? cost[r * cols + c]! : forbidden;
      a[r * n + c] = Number.isFinite(v) && v <= maxCost ? v : forbidden;
    }
  }
  // Potentials u (rows), v (cols); p[col] = row matched to col (1-based, 0 = none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = a[(i0 - 1) * n + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= n; j++) {
    const r = p[j]! - 1;
    const c = j - 1;
    if (r < rows && c < cols && a[r * n + c]! < forbidden) result[r] = c;
  }
  return result;
}
