/**
 * Panoptic fusion: one class and one segment per pixel, from a semantic label map and a set of
 * instance masks.
 *
 * The rules, in the order they apply:
 * 1. Instances are painted from the highest score down; a pixel already taken keeps its owner,
 *    so where two instances overlap the higher score wins.
 * 2. An instance keeps its pixels only if it still owns at least `minArea` of them and at least
 *    `minVisibleFraction` of its own mask (a mostly hidden duplicate is dropped).
 * 3. Things win over stuff: pixels of a kept instance get the instance's class, whatever the
 *    semantic head said there. A detected person stays a person, unless the semantic head calls
 *    most of its pixels `rider` and its box overlaps a detected bicycle or motorcycle: then it
 *    is a rider (COCO has no rider class; a semantic model alone says `rider` of people who
 *    merely stand beside a bicycle).
 * 4. The remaining pixels take the semantic class. Pixels of a thing class that no instance
 *    claims, and pixels of void classes, are void (class {@link VOID_CLASS}, segment 0): a
 *    thing without an instance cannot be counted, so it is not reported as one.
 * 5. A stuff class covering fewer than `minArea` pixels is void too.
 * 6. Detections without a mask (box-only detectors) take, inside their box, the semantic
 *    model's pixels of their class (person: person and rider), or the whole box where the
 *    semantic model has too few of them (detection-masks.ts); each thing segment says which
 *    (`maskSource`).
 *
 * Segment ids: things are 1..T in score order, stuff follows in class order; 0 is void. Each
 * segment leaves with the runs of pixels it owns, found here once for every later stage.
 */
import { countNonZero, RunList } from '../../lib/geometry/pixel-runs.ts';
import { VOID_CLASS, type ClassSet, type Instances, type Segment, type SemanticLabels } from '../../pipeline/frame.ts';
import { paintDetection, type PaintedThing } from './detection-masks.ts';

export interface FusionOptions {
  readonly minArea: number;
  readonly minVisibleFraction: number;
  /**
   * Box-only detections: the semantic pixels of the detection's class inside its box are its
   * mask when they are at least this fraction of the box's free pixels; else the box is.
   */
  readonly minSemanticFraction?: number;
}

/** Default of {@link FusionOptions.minSemanticFraction}. */
export const MIN_SEMANTIC_FRACTION = 0.15;

/** The panoptic classes (the semantic head's set) and how the instance head's classes map onto them. */
export interface FusionClasses extends ClassSet {
  /** Panoptic class of each instance class, or -1 for instance classes that are ignored. */
  readonly instanceToPanoptic: Int32Array;
  /** Panoptic index of `person` and `rider`, when the class set has them (-1 otherwise). */
  readonly person: number;
  readonly rider: number;
  /** Panoptic indices of the classes a rider rides (bicycle, motorcycle) that the class set has. */
  readonly ridden: readonly number[];
}

/** Output buffers, `width * height` each; fusion overwrites every element. */
export interface FusionBuffers {
  readonly classMap: Uint8Array;
  readonly segmentMap: Uint32Array;
}

export interface FusionResult {
  readonly segments: Segment[];
}

/**
 * Nearest-neighbour lookup tables from frame pixels to label-map pixels, made once per size, and
 * the run list fusion reuses from frame to frame: the per-stream state fusion keeps.
 */
export class LabelScaler {
  readonly runs = new RunList();
  private key = '';
  private columns = new Int32Array(0);
  private rowStarts = new Int32Array(0);

  tables(frameWidth: number, frameHeight: number, labelWidth: number, labelHeight: number) {
    const key = `${frameWidth}x${frameHeight}<${labelWidth}x${labelHeight}`;
    if (key !== this.key) {
      this.key = key;
      this.columns = Int32Array.from({ length: frameWidth }, (_, x) =>
        Math.min(labelWidth - 1, Math.floor(((x + 0.5) * labelWidth) / frameWidth)),
      );
      this.rowStarts = Int32Array.from(
        { length: frameHeight },
        (_, y) => Math.min(labelHeight - 1, Math.floor(((y + 0.5) * labelHeight) / frameHeight)) * labelWidth,
      );
    }
    return { columns: this.columns, rowStarts: this.rowStarts };
  }
}

export function fusePanoptic(
  width: number,
  height: number,
  semantic: SemanticLabels,
  instances: Instances | undefined,
  classes: FusionClasses,
  options: FusionOptions,
  out: FusionBuffers,
  scaler: LabelScaler,
): FusionResult {
  const { classMap, segmentMap } = out;
  const pixels = width * height;

  // Semantic classes are read through nearest-neighbour tables, never upsampled into a buffer.
  const scale = scaler.tables(width, height, semantic.width, semantic.height);
  const labels = semantic.labels;
  segmentMap.fill(0, 0, pixels);

  // Instances, highest score first; temporary ids are 1 + position in `painted`.
  const things: PaintedThing[] = [];
  if (instances) {
    const order = Array.from({ length: instances.count }, (_, i) => i)
      .filter((i) => classes.instanceToPanoptic[instances.classIds[i]!]! >= 0)
      .sort((a, b) => instances.scores[b]! - instances.scores[a]!);
    const minSemanticFraction = options.minSemanticFraction ?? MIN_SEMANTIC_FRACTION;
    for (const i of order) {
      const id = things.length + 1;
      let thing: PaintedThing;
      if (instances.masks) {
        thing = paintInstance(instances, i, id, classes, segmentMap, semantic.labels, scale, width, height);
      } else {
        const classId = classes.instanceToPanoptic[instances.classIds[i]!]!;
        const detection = {
          box: instances.boxes,
          boxAt: i * 4,
          classId,
          alsoClassId: classId === classes.person ? classes.rider : -1,
          minSemanticFraction,
        };
        thing = paintDetection(detection, i, id, segmentMap, semantic.labels, scale, width, height);
      }
      if (thing.area >= options.minArea && thing.area >= options.minVisibleFraction * thing.maskArea) {
        if (isRider(thing, instances, classes)) thing.classId = classes.rider;
        things.push(thing);
      } else {
        erase(segmentMap, width, thing, things.length + 1);
      }
    }
  }

  // Final pass: thing pixels take their instance's class; the rest is stuff or void.
  const classCount = classes.names.length;
  const stuffArea = new Int32Array(classCount);
  const stuffBox = new Int32Array(classCount * 4);
  for (let c = 0; c < classCount; c++) stuffBox.set([width, height, -1, -1], c * 4);
  const thingClass = Int32Array.from([0, ...things.map((t) => t.classId)]);
  const isStuff = Uint8Array.from({ length: 256 }, (_, c) =>
    c < classCount && !classes.isVoid[c] && !classes.isThing[c] ? 1 : 0,
  );
  const stuffBase = things.length; // stuff segment id = stuffBase + 1 + class
  const { columns, rowStarts } = scale;
  // The label map is coarser than the frame, so stuff comes in runs along a row: areas and boxes
  // are updated once per run, not once per pixel.
  // Each segment's runs are noted on the way, so no later stage has to find its pixels again.
  const runs = scaler.runs;
  runs.clear();
  for (let y = 0; y < height; y++) {
    const labelRow = rowStarts[y]!;
    const rowStart = y * width;
    let x = 0;
    while (x < width) {
      let p = rowStart + x;
      const seg = segmentMap[p]!;
      if (seg !== 0) {
        const runStart = p;
        const c = thingClass[seg]!;
        do {
          classMap[p] = c;
          x++;
          p++;
        } while (x < width && segmentMap[p] === seg);
        runs.add(seg, runStart, p);
        continue;
      }
      const c = labels[labelRow + columns[x]!]!;
      if (isStuff[c] === 0) {
        classMap[p] = VOID_CLASS;
        x++;
        continue;
      }
      const id = stuffBase + 1 + c;
      const runStart = x;
      do {
        classMap[p] = c;
        segmentMap[p] = id;
        x++;
        p++;
      } while (x < width && segmentMap[p] === 0 && labels[labelRow + columns[x]!] === c);
      stuffArea[c] += x - runStart;
      runs.add(id, rowStart + runStart, p);
      const b = c * 4;
      if (runStart < stuffBox[b]!) stuffBox[b] = runStart;
      if (y < stuffBox[b + 1]!) stuffBox[b + 1] = y;
      if (x - 1 > stuffBox[b + 2]!) stuffBox[b + 2] = x - 1;
      stuffBox[b + 3] = y;
    }
  }

  // Stuff fragments too small to matter become void.
  const tooSmall = new Uint8Array(classCount);
  let anyTooSmall = false;
  for (let c = 0; c < classCount; c++) {
    if (stuffArea[c]! > 0 && stuffArea[c]! < options.minArea) {
      tooSmall[c] = 1;
      anyTooSmall = true;
    }
  }
  if (anyTooSmall) {
    for (let p = 0; p < pixels; p++) {
      const seg = segmentMap[p]!;
      if (seg > stuffBase && tooSmall[seg - stuffBase - 1]) {
        segmentMap[p] = 0;
        classMap[p] = VOID_CLASS;
      }
    }
  }

  const kept: Omit<Segment, 'runs'>[] = things.map((t, k) => ({
    id: k + 1,
    classId: t.classId,
    className: classes.names[t.classId]!,
    isThing: true,
    area: t.area,
    bbox: [t.x1, t.y1, t.x2 + 1, t.y2 + 1],
    score: instances!.scores[t.instance]!,
    maskSource: t.maskSource,
  }));
  for (let c = 0; c < classCount; c++) {
    if (stuffArea[c] === 0 || tooSmall[c]) continue;
    const b = c * 4;
    kept.push({
      id: stuffBase + 1 + c,
      classId: c,
      className: classes.names[c]!,
      isThing: false,
      area: stuffArea[c]!,
      bbox: [stuffBox[b]!, stuffBox[b + 1]!, stuffBox[b + 2]! + 1, stuffBox[b + 3]! + 1],
      score: 1,
    });
  }
  // Stuff voided above is not in `kept`, so its runs are left out here.
  const runsBySegment = runs.bySegment(kept.map((s) => s.id));
  return { segments: kept.map((segment, k) => ({ ...segment, runs: runsBySegment[k]! })) };
}

/** Claims the free pixels of instance `i`'s mask for segment `id`; measures what it got. */
function paintInstance(
  instances: Instances,
  i: number,
  id: number,
  classes: FusionClasses,
  segmentMap: Uint32Array,
  labels: Uint8Array,
  scale: { columns: Int32Array; rowStarts: Int32Array },
  width: number,
  height: number,
): PaintedThing {
  const mask = instances.masks![i]!;
  const thing: PaintedThing = {
    instance: i,
    classId: classes.instanceToPanoptic[instances.classIds[i]!]!,
    area: 0,
    x1: width,
    y1: height,
    x2: -1,
    y2: -1,
    maskArea: countNonZero(mask.data),
    maskSource: 'model',
    riderPixels: 0,
  };
  const yEnd = Math.min(mask.y + mask.height, height);
  const xEnd = Math.min(mask.x + mask.width, width);
  for (let y = Math.max(mask.y, 0); y < yEnd; y++) {
    const maskRow = (y - mask.y) * mask.width - mask.x;
    const frameRow = y * width;
    const labelRow = scale.rowStarts[y]!;
    for (let x = Math.max(mask.x, 0); x < xEnd; x++) {
      if (mask.data[maskRow + x] === 0) continue;
      const p = frameRow + x;
      if (segmentMap[p] !== 0) continue;
      segmentMap[p] = id;
      thing.area++;
      if (labels[labelRow + scale.columns[x]!] === classes.rider) thing.riderPixels++;
      if (x < thing.x1) thing.x1 = x;
      if (x > thing.x2) thing.x2 = x;
      if (y < thing.y1) thing.y1 = y;
      if (y > thing.y2) thing.y2 = y;
    }
  }
  return thing;
}

/** A box overlaps a ridden thing when their intersection covers this much of the smaller box. */
const RIDING_OVERLAP = 0.2;

/**
 * A person is a rider when the semantic model calls most of its pixels `rider` and its box
 * overlaps a detected bicycle or motorcycle: the detector's own class stands otherwise.
 */
function isRider(thing: PaintedThing, instances: Instances, classes: FusionClasses): boolean {
  if (thing.classId !== classes.person || classes.rider < 0 || thing.riderPixels * 2 <= thing.area) return false;
  const boxes = instances.boxes;
  const a = thing.instance * 4;
  for (let j = 0; j < instances.count; j++) {
    if (!classes.ridden.includes(classes.instanceToPanoptic[instances.classIds[j]!]!)) continue;
    const b = j * 4;
    const w = Math.min(boxes[a + 2]!, boxes[b + 2]!) - Math.max(boxes[a]!, boxes[b]!);
    const h = Math.min(boxes[a + 3]!, boxes[b + 3]!) - Math.max(boxes[a + 1]!, boxes[b + 1]!);
    if (w <= 0 || h <= 0) continue;
    const smaller = Math.min(
      (boxes[a + 2]! - boxes[a]!) * (boxes[a + 3]! - boxes[a + 1]!),
      (boxes[b + 2]! - boxes[b]!) * (boxes[b + 3]! - boxes[b + 1]!),
    );
    if (w * h >= RIDING_OVERLAP * smaller) return true;
  }
  return false;
}

/** Gives back the pixels of a dropped instance. */
function erase(segmentMap: Uint32Array, width: number, thing: PaintedThing, id: number): void {
  for (let y = thing.y1; y <= thing.y2; y++) {
    for (let x = thing.x1, p = y * width + thing.x1; x <= thing.x2; x++, p++) {
      if (segmentMap[p] === id) segmentMap[p] = 0;
    }
  }
}
