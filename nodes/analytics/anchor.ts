import { boxBottomCenter, boxCenter } from '../../lib/geometry/box.ts';
import { runsCentroid } from '../../lib/geometry/pixel-runs.ts';
import type { TrackedObject } from '../../pipeline/frame.ts';
import type { Point } from './geometry.ts';
/**
 * The point of an object that lines and zones look at:
 * - `bottom-center`: where a car or a person touches the ground, seen from a raised camera;
 * - `center`: the box centre, for a camera looking straight down;
 * - `mask-centroid`: the centre of the pixels the object owns, steadier than a box that a
 *   partly hidden object makes jump (falls back to the box centre without a mask).
 */
export type AnchorKind = 'bottom-center' | 'center' | 'mask-centroid';

export function anchorOf(track: TrackedObject, kind: AnchorKind, frameWidth: number): Point {
  if (kind === 'bottom-center') return boxBottomCenter(track.bbox);
  if (kind === 'mask-centroid' && track.runs) {
    const centroid = runsCentroid(track.runs, frameWidth);
    if (centroid) return centroid;
  }
  return boxCenter(track.bbox);
}
