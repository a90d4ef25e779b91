/**
 * 2-D affine maps as the packet's `cameraMotion` writes them: `[a, b, c, d, e, f]` takes a point
 * to `x' = a*x + b*y + c`, `y' = d*x + e*y + f`. The camera-motion estimator, the motion
 * segmenter's background registration and the tracker all speak this one form.
 */
export type Affine = readonly [a: number, b: number, c: number, d: number, e: number, f: number];

export const IDENTITY_AFFINE: Affine = [1, 0, 0, 0, 1, 0];

export function isIdentityAffine(m: Affine): boolean {
  return m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 0 && m[4] === 1 && m[5] === 0;
}

/** `outer ∘ inner`: first `inner`, then `outer`. */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}

/** The map back; a degenerate map (no area) has none and throws. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error(`affine [${m.join(', ')}] has no inverse`);
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** Where `m` takes the point `(x, y)`. */
export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/**
 * The map in another pixel grid: `m` works on pixels `scale` times smaller (a grey copy `1 /
 * scale` the frame's size); the result does the same on frame pixels.
 */
export function scaleAffine(m: Affine, scaleX: number, scaleY: number): Affine {
  return [m[0], (m[1] * scaleX) / scaleY, m[2] * scaleX, (m[3] * scaleY) / scaleX, m[4], m[5] * scaleY];
}

/** How far `m` moves any corner of a `width x height` picture, in pixels: its size as one number. */
export function largestCornerShift(m: Affine, width: number, height: number): number {
  let largest = 0;
  for (const [x, y] of [[0, 0], [width, 0], [0, height], [width, height]] as const) {
    const [mx, my] = applyAffine(m, x, y);
    largest = Math.max(largest, Math.hypot(mx - x, my - y));
  }
  return largest;
}
