import type { PanopticFrame, TrackedObject } from '../../pipeline/frame.ts';
import type { Point } from './geometry.ts';

/**
 * The point of an object that lines and zones look at:
 * - `bottom-center`: where a car or a person touches the ground, seen from a raised camera;
 * - `center`: the box centre, for a camera looking straight down;
 * - `mask-centroid`: the centre of the pixels the object owns, steadier than a box that a
 *   partly hidden object makes jump (falls back to the box centre without a mask).
 */
export type AnchorKind = 'bottom-center' | 'center' | 'mask-centroid';

export function anchorOf(track: TrackedObject, kind: AnchorKind, panoptic: PanopticFrame | undefined): Point {
  const [x, y, w, h] = track.bbox;
  if (kind === 'bottom-center') return [x + w / 2, y + h];
  if (kind === 'mask-centroid' && panoptic && track.segmentId !== undefined) {
    const centroid = segmentCentroid(panoptic, track.segmentId, track.bbox);
    if (centroid) return centroid;
  }
  return [x + w / 2, y + h / 2];
}

function segmentCentroid(panoptic: PanopticFrame, id: number, bbox: TrackedObject['bbox']): Point | undefined {
  const x0 = Math.max(0, Math.floor(bbox[0]));
  const y0 = Math.max(0, Math.floor(bbox[1]));
  const x1 = Math.min(panoptic.width, Math.ceil(bbox[0] + bbox[2]));
  const y1 = Math.min(panoptic.height, Math.ceil(bbox[1] + bbox[3]));
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = y0; y < y1; y++) {
    const row = y * panoptic.width;
    for (let x = x0; x < x1; x++) {
      if (panoptic.segmentMap[row + x] !== id) continue;
      n++;
      sx += x;
      sy += y;
    }
  }
  return n ? [sx / n + 0.5, sy / n + 0.5] : undefined;
}
