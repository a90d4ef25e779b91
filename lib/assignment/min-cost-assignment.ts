/**
 * Minimum-cost assignment (the Hungarian method, in its shortest-augmenting-path form with row and
 * column potentials), O(n²·m) for an n×m matrix with n ≤ m.
 *
 * The tracker matches tracks to detections with it; the MOT metrics match objects to hypotheses
 * per frame (CLEAR, HOTA, the distractor rule) and whole tracks (identity).
 */

/** Marks a pair that must not be assigned. */
export const FORBIDDEN = Number.POSITIVE_INFINITY;

/**
 * Assigns rows to columns of a dense `rows`×`cols` cost matrix (row-major). Pairs whose cost is
 * not finite (NaN, ±Infinity: see {@link FORBIDDEN}) are never assigned. Among the assignments with
 * the most allowed pairs, it returns one of least total cost, as py-motmetrics does.
 *
 * Returns, for each row, its column or -1.
 */
export function minCostAssignment(cost: Float64Array, rows: number, cols: number): Int32Array {
  if (cost.length !== rows * cols) {
    throw new Error(`minCostAssignment: ${cost.length} costs for a ${rows}x${cols} matrix`);
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return rowToCol;

  // The solver below wants no more rows than columns: solve the transpose when there are.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;

  // A forbidden pair costs more than any allowed assignment could save by using it: with costs in
  // [-c, c], one forbidden pair plus n-1 best pairs must cost more than n worst pairs. So the
  // solver first maximises the number of allowed pairs, then minimises their cost.
  let largest = 0;
  let anyAllowed = false;
  for (let k = 0; k < cost.length; k++) {
    const c = cost[k]!;
    if (Number.isFinite(c)) {
      anyAllowed = true;
      if (Math.abs(c) > largest) largest = Math.abs(c);
    }
  }
  if (!anyAllowed) return rowToCol;
  const forbiddenCost = 2 * n * largest + 1;

  // 1-based working matrix: a[i * (m + 1) + j], row 0 and column 0 unused.
  const stride = m + 1;
  const a = new Float64Array((n + 1) * stride);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = cost[r * cols + c]!;
      const i = transposed ? c + 1 : r + 1;
      const j = transposed ? r + 1 : c + 1;
      a[i * stride + j] = Number.isFinite(value) ? value : forbiddenCost;
    }
  }

  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfCol = new Int32Array(m + 1); // 0 = column free
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);

  for (let i = 1; i <= n; i++) {
    rowOfCol[0] = i;
    let j0 = 0;
    minv.fill(Number.POSITIVE_INFINITY);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOfCol[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      const base = i0 * stride;
      const ui0 = u[i0]!;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = a[base + j]! - ui0 - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOfCol[j]!] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (rowOfCol[j0] !== 0);
    // Flip the augmenting path.
    do {
      const j1 = way[j0]!;
      rowOfCol[j0] = rowOfCol[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }

  for (let j = 1; j <= m; j++) {
    const i = rowOfCol[j]!;
    if (i === 0) continue;
    const r = transposed ? j - 1 : i - 1;
    const c = transposed ? i - 1 : j - 1;
    if (Number.isFinite(cost[r * cols + c]!)) rowToCol[r] = c;
  }
  return rowToCol;
}
