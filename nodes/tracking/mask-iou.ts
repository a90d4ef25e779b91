import type { InstanceMask } from '../../pipeline/frame.ts';

/**
 * IoU of two masks, `b` shifted by `(dx, dy)` pixels first (a track's last mask moved to where
 * the track is predicted to be). Only the overlap of the two rectangles is visited.
 */
export function maskIou(a: InstanceMask, b: InstanceMask, dx = 0, dy = 0): number {
  const bx = b.x + dx;
  const by = b.y + dy;
  const x0 = Math.max(a.x, bx);
  const y0 = Math.max(a.y, by);
  const x1 = Math.min(a.x + a.width, bx + b.width);
  const y1 = Math.min(a.y + a.height, by + b.height);
  const areaA = ones(a.data);
  const areaB = ones(b.data);
  let intersection = 0;
  for (let y = y0; y < y1; y++) {
    const rowA = (y - a.y) * a.width - a.x;
    const rowB = (y - by) * b.width - bx;
    for (let x = x0; x < x1; x++) intersection += a.data[rowA + x]! & b.data[rowB + x]!;
  }
  const union = areaA + areaB - intersection;
  return union > 0 ? intersection / union : 0;
}

function ones(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) n += data[i]!;
  return n;
}
