/**
 * How long `eval instance` takes on a COCO-sized slice: 500 images of 640x480 with 5,000
 * ground-truth objects over 10 categories (polygons, 3% crowd regions as RLE) and about 6,000
 * results with compressed RLE masks and boxes (jittered, missed, duplicated, false alarms), scored
 * as masks and as boxes. Everything from the parsed JSON on is timed: checking the files,
 * rasterizing polygons, decoding RLE, matching, accumulating. The data come from a fixed seed,
 * so runs compare.
 */
import { evaluateInstanceFiles, type InstanceReport } from '../evaluation/instance/evaluate.ts';
import { parseCocoInstances, parseCocoResults } from '../lib/formats/coco-instances.ts';
import { rleFromPolygon, rleToJson } from '../lib/formats/coco-rle.ts';

const WIDTH = 640;
const HEIGHT = 480;

export interface SyntheticInstances {
  /** As JSON.parse returns them: the command parses and checks them again. */
  readonly gt: unknown;
  readonly results: unknown;
  readonly annotations: number;
}

export function syntheticInstances(images = 500, objectsPerImage = 10, categories = 10): SyntheticInstances {
  let seed = 11;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const polygon = (cx: number, cy: number, r: number): number[] => {
    const points: number[] = [];
    for (let k = 0; k < 8; k++) {
      const angle = (k / 8) * 2 * Math.PI;
      const radius = r * (0.7 + 0.3 * next());
      points.push(Math.round((cx + radius * Math.cos(angle)) * 100) / 100, Math.round((cy + radius * Math.sin(angle)) * 100) / 100);
    }
    return points;
  };
  const gtImages = [];
  const annotations = [];
  const results = [];
  for (let image = 1; image <= images; image++) {
    gtImages.push({ id: image, width: WIDTH, height: HEIGHT, file_name: `${image}.png` });
    for (let o = 0; o < objectsPerImage; o++) {
      const category = 1 + Math.floor(next() * categories);
      const r = [6, 12, 25, 50, 90][Math.floor(next() * 5)]!;
      const cx = r + next() * (WIDTH - 2 * r);
      const cy = r + next() * (HEIGHT - 2 * r);
      const points = polygon(cx, cy, r);
      const crowd = next() < 0.03;
      const mask = rleFromPolygon(points, HEIGHT, WIDTH);
      annotations.push({
        id: annotations.length + 1, image_id: image, category_id: category, iscrowd: crowd ? 1 : 0,
        area: Math.PI * r * r * 0.75, bbox: [cx - r, cy - r, 2 * r, 2 * r],
        segmentation: crowd ? { size: [HEIGHT, WIDTH], counts: Array.from(mask.counts) } : [points],
      });
      // Detected 9 times in 10, once in 5 twice; shifted by up to a fifth of its size.
      const copies = next() < 0.1 ? 0 : next() < 0.2 ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const dx = (next() - 0.5) * 0.4 * r;
        const dy = (next() - 0.5) * 0.4 * r;
        const moved = polygon(cx + dx, cy + dy, r);
        results.push({
          image_id: image, category_id: next() < 0.95 ? category : 1 + Math.floor(next() * categories),
          score: Math.round(next() * 100) / 100, bbox: [cx + dx - r, cy + dy - r, 2 * r, 2 * r],
          segmentation: rleToJson(rleFromPolygon(moved, HEIGHT, WIDTH)),
        });
      }
    }
    for (let f = 0; f < 2; f++) {
      const r = 5 + next() * 40;
      const [cx, cy] = [r + next() * (WIDTH - 2 * r), r + next() * (HEIGHT - 2 * r)];
      results.push({
        image_id: image, category_id: 1 + Math.floor(next() * categories), score: Math.round(next() * 50) / 100,
        bbox: [cx - r, cy - r, 2 * r, 2 * r], segmentation: rleToJson(rleFromPolygon(polygon(cx, cy, r), HEIGHT, WIDTH)),
      });
    }
  }
  const gt = { images: gtImages, annotations, categories: Array.from({ length: categories }, (_, k) => ({ id: k + 1, name: `class${k + 1}` })) };
  // Through JSON, as the command gets them from files.
  return { gt: JSON.parse(JSON.stringify(gt)), results: JSON.parse(JSON.stringify(results)), annotations: annotations.length };
}

export interface InstanceEvalBench {
  readonly annotations: number;
  readonly results: number;
  /** Best of `runs`, milliseconds. */
  readonly segmMs: number;
  readonly bboxMs: number;
  readonly segmAP: number;
  readonly bboxAP: number;
}

/** Milliseconds to score the synthetic set as masks and as boxes, best of `runs`. */
export function benchInstanceEval(runs = 3): InstanceEvalBench {
  const data = syntheticInstances();
  const time = (iouType: 'segm' | 'bbox'): { ms: number; report: InstanceReport } => {
    let best = Number.POSITIVE_INFINITY;
    let report: InstanceReport | undefined;
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      report = evaluateInstanceFiles(parseCocoInstances(data.gt, 'gt'), parseCocoResults(data.results, 'results'), iouType);
      best = Math.min(best, performance.now() - started);
    }
    return { ms: Math.round(best), report: report! };
  };
  const segm = time('segm');
  const bbox = time('bbox');
  return {
    annotations: data.annotations,
    results: segm.report.results,
    segmMs: segm.ms,
    bboxMs: bbox.ms,
    segmAP: Math.round(segm.report.AP * 1e4) / 1e4,
    bboxAP: Math.round(bbox.report.AP * 1e4) / 1e4,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(benchInstanceEval()));
}
