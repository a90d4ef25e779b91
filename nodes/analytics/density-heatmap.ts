import type { Heatmap } from '../../pipeline/frame.ts';
import type { Point } from './geometry.ts';

/**
 * Where people have been, as a coarse grid that forgets: every cell decays with a half-life in
 * stream time, and each person adds weight around their anchor (a 3x3 kernel, so one person
 * does not light a single cell).
 */
export class DensityHeatmap {
  private readonly cells: Float32Array;
  private lastMs: number | undefined;

  constructor(
    readonly columns: number,
    readonly rows: number,
    private readonly halfLifeMs: number,
  ) {
    this.cells = new Float32Array(columns * rows);
  }

  /** Decays to `ptsMs`, adds the people at `anchors` (pixels of a `width x height` frame), returns a copy. */
  update(anchors: readonly Point[], width: number, height: number, ptsMs: number): Heatmap {
    if (this.lastMs !== undefined) {
      const keep = Math.pow(0.5, Math.max(0, ptsMs - this.lastMs) / this.halfLifeMs);
      for (let i = 0; i < this.cells.length; i++) this.cells[i]! *= keep;
    }
    this.lastMs = ptsMs;
    for (const [x, y] of anchors) {
      const cx = Math.min(this.columns - 1, Math.max(0, Math.floor((x / width) * this.columns)));
      const cy = Math.min(this.rows - 1, Math.max(0, Math.floor((y / height) * this.rows)));
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const gx = cx + dx;
          const gy = cy + dy;
          if (gx < 0 || gy < 0 || gx >= this.columns || gy >= this.rows) continue;
          this.cells[gy * this.columns + gx]! += dx === 0 && dy === 0 ? 1 : 0.5;
        }
      }
    }
    return { width: this.columns, height: this.rows, data: this.cells.slice() };
  }
}
