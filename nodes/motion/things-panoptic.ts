/**
 * A panoptic frame of things over void, from instances alone: what the tracker, analytics and
 * overlay read when no semantic model runs (a fixed camera or a drone looking for movers). Each
 * pixel goes to the highest-scoring instance whose mask covers it; everything else is void.
 * When a semantic model and panoptic-fusion come after, fusion's frame replaces this one.
 */
import { segmentRuns } from '../../lib/geometry/pixel-runs.ts';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import { VOID_CLASS, type Instances, type Lease, type PanopticFrame, type Segment } from '../../pipeline/frame.ts';
import type { Box } from '../../lib/geometry/box.ts';

/** Maps alive at once per stream: in flight downstream plus the one being filled (as fusion). */
const MAP_POOL_SIZE = 6;

export class ThingsPanoptic {
  private pools: { size: number; classMaps: BufferPool<Uint8Array>; segmentMaps: BufferPool<Uint32Array> } | undefined;

  /** The panoptic frame of `instances` on a `width x height` frame, and the leases of its maps. */
  build(width: number, height: number, instances: Instances): { panoptic: PanopticFrame; leases: Lease[] } {
    const { classMap, segmentMap, leases } = this.maps(width * height);
    classMap.fill(VOID_CLASS);
    segmentMap.fill(0);
    const order = Array.from({ length: instances.count }, (_, i) => i).sort((a, b) => instances.scores[b]! - instances.scores[a]!);
    const ids: number[] = [];
    const instanceOf: number[] = [];
    for (const i of order) {
      const id = ids.length + 1;
      const classId = instances.classIds[i]!;
      const mask = instances.masks?.[i];
      const b = instances.boxes;
      // A box-only detection owns its box.
      const x0 = mask ? mask.x : Math.max(0, Math.floor(b[i * 4]!));
      const y0 = mask ? mask.y : Math.max(0, Math.floor(b[i * 4 + 1]!));
      const w = mask ? mask.width : Math.min(width, Math.ceil(b[i * 4 + 2]!)) - x0;
      const h = mask ? mask.height : Math.min(height, Math.ceil(b[i * 4 + 3]!)) - y0;
      let painted = 0;
      for (let y = Math.max(0, -y0); y < h && y0 + y < height; y++) {
        const row = (y0 + y) * width + x0;
        for (let x = Math.max(0, -x0); x < w && x0 + x < width; x++) {
          if (mask && mask.data[y * w + x] === 0) continue;
          if (segmentMap[row + x] !== 0) continue;
          segmentMap[row + x] = id;
          classMap[row + x] = classId;
          painted++;
        }
      }
      if (painted === 0) continue;
      ids.push(id);
      instanceOf.push(i);
    }
    const runs = segmentRuns(segmentMap, width, ids);
    const segments: Segment[] = ids.map((id, k) => {
      const i = instanceOf[k]!;
      const classId = instances.classIds[i]!;
      const { area, bbox } = runsBounds(runs[k]!, width);
      return {
        id,
        classId,
        className: instances.classes.names[classId] ?? String(classId),
        isThing: true,
        area,
        bbox,
        runs: runs[k]!,
        score: instances.scores[i]!,
      };
    });
    return { panoptic: { width, height, classMap, segmentMap, segments, classes: instances.classes }, leases };
  }

  private maps(size: number): { classMap: Uint8Array; segmentMap: Uint32Array; leases: Lease[] } {
    if (this.pools?.size !== size) {
      this.pools = {
        size,
        classMaps: new BufferPool(() => new Uint8Array(size), MAP_POOL_SIZE),
        segmentMaps: new BufferPool(() => new Uint32Array(size), MAP_POOL_SIZE),
      };
    }
    const classMap = this.pools.classMaps.acquire();
    const segmentMap = this.pools.segmentMaps.acquire();
    if (classMap && segmentMap) return { classMap: classMap.buffer, segmentMap: segmentMap.buffer, leases: [classMap.release, segmentMap.release] };
    // More frames alive than the pool expects (a sink holding on): stay correct, allocate.
    classMap?.release();
    segmentMap?.release();
    return { classMap: new Uint8Array(size), segmentMap: new Uint32Array(size), leases: [] };
  }
}

/** Area and bounds (far edges exclusive) of the pixels `runs` cover. */
function runsBounds(runs: Uint32Array, width: number): { area: number; bbox: Box } {
  let area = 0;
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = 0;
  let y2 = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!;
    const end = runs[r + 1]!;
    const y = Math.floor(start / width);
    const from = start - y * width;
    area += end - start;
    if (from < x1) x1 = from;
    if (end - y * width > x2) x2 = end - y * width;
    if (y < y1) y1 = y;
    if (y + 1 > y2) y2 = y + 1;
  }
  return { area, bbox: [x1, y1, x2, y2] };
}
