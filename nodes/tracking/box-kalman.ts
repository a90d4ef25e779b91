/**
 * A constant-velocity Kalman filter on a box `(cx, cy, w, h)`, time-aware: each step takes the
 * time since the last one, so dropped frames widen the uncertainty instead of being ignored.
 *
 * With a constant-velocity model, diagonal noises and a diagonal start, the four coordinates
 * never correlate: the filter is four independent (position, velocity) filters, each with a 2x2
 * covariance. That is the 8-state filter of SORT and ByteTrack, computed without 8x8 matrices.
 *
 * Noise scales with the box height (as in ByteTrack): a near, big object moves more pixels.
 */

/** Per coordinate: position, velocity (px/s), and the covariance [[pp, pv], [pv, vv]]. */
const STRIDE = 5;
const P = 0;
const V = 1;
const PP = 2;
const PV = 3;
const VV = 4;

/** Noise levels are given per nominal frame (25 fps) and scaled by the real time step. */
const NOMINAL_STEP_S = 0.04;
const POSITION_NOISE = 1 / 20;
const VELOCITY_NOISE = 1 / 160;

export type Box = readonly [cx: number, cy: number, w: number, h: number];

export class BoxKalman {
  private readonly s = new Float64Array(4 * STRIDE);

  constructor(box: Box) {
    const h = Math.max(box[3], 1);
    for (let i = 0; i < 4; i++) {
      const o = i * STRIDE;
      this.s[o + P] = box[i]!;
      this.s[o + V] = 0;
      this.s[o + PP] = (2 * POSITION_NOISE * h) ** 2;
      this.s[o + PV] = 0;
      // Velocity in px/s: ten nominal-frame velocity noises, per second.
      this.s[o + VV] = ((10 * VELOCITY_NOISE * h) / NOMINAL_STEP_S) ** 2;
    }
  }

  /** The current estimate, `[cx, cy, w, h]`. */
  box(): [number, number, number, number] {
    return [this.s[P]!, this.s[STRIDE + P]!, Math.max(this.s[2 * STRIDE + P]!, 1), Math.max(this.s[3 * STRIDE + P]!, 1)];
  }

  /** Moves the estimate `dtSeconds` ahead. */
  predict(dtSeconds: number): void {
    const dt = Math.max(dtSeconds, 0);
    const steps = dt / NOMINAL_STEP_S;
    const h = Math.max(this.s[3 * STRIDE + P]!, 1);
    const qp = (POSITION_NOISE * h) ** 2 * steps;
    const qv = ((VELOCITY_NOISE * h) / NOMINAL_STEP_S) ** 2 * steps;
    for (let i = 0; i < 4; i++) {
      const o = i * STRIDE;
      const pp = this.s[o + PP]!;
      const pv = this.s[o + PV]!;
      const vv = this.s[o + VV]!;
      this.s[o + P] += this.s[o + V]! * dt;
      this.s[o + PP] = pp + 2 * dt * pv + dt * dt * vv + qp;
      this.s[o + PV] = pv + dt * vv;
      this.s[o + VV] = vv + qv;
    }
  }

  /**
   * Moves the estimate with the camera (what BoT-SORT calls global motion compensation):
   * `affine` `[a, b, c, d, e, f]` maps a pixel of the previous frame to this one. The centre
   * moves with the picture, the velocity turns with it, and size and uncertainty scale with its
   * zoom; the coordinates stay independent (rotations between frames are small).
   */
  applyAffine(affine: readonly [number, number, number, number, number, number]): void {
    const [a, b, c, d, e, f] = affine;
    const s = this.s;
    const cx = s[P]!;
    const cy = s[STRIDE + P]!;
    s[P] = a * cx + b * cy + c;
    s[STRIDE + P] = d * cx + e * cy + f;
    const vx = s[V]!;
    const vy = s[STRIDE + V]!;
    s[V] = a * vx + b * vy;
    s[STRIDE + V] = d * vx + e * vy;
    const zoom = Math.sqrt(Math.abs(a * e - b * d));
    if (zoom === 1) return;
    for (let i = 0; i < 4; i++) {
      const o = i * STRIDE;
      if (i >= 2) {
        s[o + P] = s[o + P]! * zoom;
        s[o + V] = s[o + V]! * zoom;
      }
      s[o + PP] = s[o + PP]! * zoom * zoom;
      s[o + PV] = s[o + PV]! * zoom * zoom;
      s[o + VV] = s[o + VV]! * zoom * zoom;
    }
  }

  /** Corrects the estimate with a measured box. */
  update(box: Box): void {
    const h = Math.max(box[3], 1);
    const r = (POSITION_NOISE * h) ** 2;
    for (let i = 0; i < 4; i++) {
      const o = i * STRIDE;
      const pp = this.s[o + PP]!;
      const pv = this.s[o + PV]!;
      const vv = this.s[o + VV]!;
      const innovation = box[i]! - this.s[o + P]!;
      const k0 = pp / (pp + r);
      const k1 = pv / (pp + r);
      this.s[o + P] += k0 * innovation;
      this.s[o + V] += k1 * innovation;
      this.s[o + PP] = (1 - k0) * pp;
      this.s[o + PV] = (1 - k0) * pv;
      this.s[o + VV] = vv - k1 * pv;
    }
  }
}
