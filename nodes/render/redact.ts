import { z } from 'zod';
import { boxIou, type Box } from '../../lib/geometry/box.ts';
import { withSection, type ClassSet, type FramePacket } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';

/**
 * Redact: blurs or fills the boxes of the things of chosen classes in the frame's own pixels, so
 * that the overlay, and every viewer, recording, clip and camera image after it, shows them
 * redacted. The models before it saw the picture as it was (they found what to redact); the frame
 * is edited in place (`updates: ['frame']`), which the graph allows only on a line of its own
 * before the overlay (pipeline/node.ts, `OperatorNode.updates`).
 *
 * The boxes are those of the panoptic frame's things and of the detector's instances (fusion may
 * drop a detection whose pixels are still there), each grown by `padding`. After a tracker,
 * the predicted boxes of its lost tracks of those classes are redacted too: an object the
 * detector misses for a frame or two stays hidden where the tracker expects it (boxesToRedact).
 *
 * ```yaml
 * - { type: redact, classes: [person] }
 * - { type: redact, classes: [car, truck], mode: fill, fillColor: [0, 0, 0] }
 * ```
 */
export const redact = defineOperator({
  type: 'redact',
  description: "Blurs or fills the boxes of chosen classes in the frame's pixels, before the overlay and every recording.",
  needs: [],
  needsOneOf: ['panoptic', 'instances'],
  adds: [],
  updates: ['frame'],
  options: z.object({
    classes: z
      .array(z.string().min(1))
      .min(1)
      .describe('Thing classes to redact, by name as the model names them, e.g. [person] or [car, truck]'),
    mode: z.enum(['blur', 'fill']).default('blur').describe('blur: a box blur over each box; fill: each box painted in fillColor'),
    blurRadius: z
      .number()
      .int()
      .min(1)
      .max(255)
      .default(16)
      .describe('Blur radius in pixels (two box passes of 2 * radius + 1): larger hides more; the cost does not grow with it'),
    fillColor: z
      .tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)])
      .default([0, 0, 0])
      .describe('RGB colour the boxes are filled with (mode fill), 0..255 each'),
    padding: z
      .number()
      .min(0)
      .max(2)
      .default(0.1)
      .describe("Margin added on every side of each box, as a share of the box's width (left and right) and height (top and bottom)"),
  }),
  async create(options, ctx) {
    const wanted = new Set(options.classes);
    const redactor = new Redactor(options);
    /** Class sets already checked against `classes`, so each missing name is logged once. */
    const checked = new Set<ClassSet>();
    const checkClasses = (classes: ClassSet) => {
      if (checked.has(classes)) return;
      checked.add(classes);
      const things = classes.names.filter((_, c) => classes.isThing[c]);
      const unknown = options.classes.filter((name) => !things.includes(name));
      if (unknown.length) {
        ctx.log.warn(
          `${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among the thing classes of ${classes.name} ` +
            `(${things.join(', ')}): nothing of ${unknown.length === 1 ? 'it' : 'them'} is redacted`,
        );
      }
    };
    return frameStage(ctx, (packet) => {
      const started = performance.now();
      const { frame } = packet;
      // A source without pixels (detections replayed from a file) has nothing to redact.
      if (frame.data.length >= frame.width * frame.height * 3) {
        const boxes = boxesToRedact(packet, wanted);
        if (boxes.classes) checkClasses(boxes.classes);
        for (const box of boxes.list) redactor.apply(frame.data, frame.width, frame.height, box);
      }
      return withSection(packet, 'frame', frame, ctx.label, performance.now() - started);
    });
  },
});

/** An instance box this close to a panoptic one is the same object, redacted once. */
const SAME_OBJECT_IOU = 0.7;

/**
 * The boxes to redact, for the things of `wanted` classes: every thing segment of the panoptic
 * frame; every detection of the instances too, since fusion may drop or relabel one (a person
 * mostly hidden, or below `minArea`, keeps its visible pixels; a person on a bicycle becomes a
 * `rider`, which `person` therefore includes); and the predicted boxes of lost tracks.
 */
export function boxesToRedact(packet: FramePacket, wanted: ReadonlySet<string>): { list: Box[]; classes?: ClassSet } {
  const { panoptic, instances } = packet;
  const segmentClasses = wanted.has('person') ? new Set([...wanted, 'rider']) : wanted;
  const list: Box[] = panoptic ? panoptic.segments.filter((s) => s.isThing && segmentClasses.has(s.className)).map((s) => s.bbox) : [];
  const fromSegments = list.length;
  if (instances) {
    const b = instances.boxes;
    for (let i = 0; i < instances.count; i++) {
      if (!wanted.has(instances.classes.names[instances.classIds[i]!]!)) continue;
      const box: Box = [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!];
      let known = false;
      for (let k = 0; k < fromSegments && !known; k++) known = boxIou(box, list[k]!) >= SAME_OBJECT_IOU;
      if (!known) list.push(box);
    }
  }
  for (const t of packet.tracks ?? []) if (t.state === 'lost' && segmentClasses.has(t.className)) list.push(t.bbox);
  return { list, classes: panoptic?.classes ?? instances?.classes };
}

export interface RedactOptions {
  readonly mode: 'blur' | 'fill';
  readonly blurRadius: number;
  readonly fillColor: readonly [number, number, number];
  readonly padding: number;
}

/** Box passes of a blur: two make a tent filter, without the ghost edges one box leaves. */
const BLUR_PASSES = 2;

/**
 * Blurs or fills boxes of an RGB24 frame in place. Its scratch buffers grow to the largest box
 * seen and are kept: nothing is allocated per pixel, nor per frame once they fit.
 */
export class Redactor {
  private rows = new Uint8Array(0);
  private sums = new Int32Array(0);

  constructor(private readonly options: RedactOptions) {}

  /** Redacts `box` grown by the padding, clipped to the frame. */
  apply(data: Uint8Array, width: number, height: number, box: Box): void {
    const { padding } = this.options;
    const padX = (box[2] - box[0]) * padding;
    const padY = (box[3] - box[1]) * padding;
    const x1 = Math.max(0, Math.floor(box[0] - padX));
    const y1 = Math.max(0, Math.floor(box[1] - padY));
    const x2 = Math.min(width, Math.ceil(box[2] + padX));
    const y2 = Math.min(height, Math.ceil(box[3] + padY));
    if (x2 <= x1 || y2 <= y1) return;
    if (this.options.mode === 'fill') {
      fillRegion(data, width, x1, y1, x2, y2, this.options.fillColor);
      return;
    }
    const size = (x2 - x1) * (y2 - y1) * 3;
    if (this.rows.length < size) this.rows = new Uint8Array(size);
    if (this.sums.length < (x2 - x1) * 3) this.sums = new Int32Array((x2 - x1) * 3);
    for (let pass = 0; pass < BLUR_PASSES; pass++) {
      blurRows(data, width, x1, y1, x2, y2, this.options.blurRadius, this.rows);
      blurColumns(this.rows, data, width, x1, y1, x2, y2, this.options.blurRadius, this.sums);
    }
  }
}

/** Paints `[x1, x2) x [y1, y2)` of an RGB24 frame `width` pixels wide in `color`. */
export function fillRegion(data: Uint8Array, width: number, x1: number, y1: number, x2: number, y2: number, color: readonly [number, number, number]): void {
  const [r, g, b] = color;
  for (let y = y1; y < y2; y++) {
    for (let o = (y * width + x1) * 3, end = (y * width + x2) * 3; o < end; o += 3) {
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
    }
  }
}

/**
 * Each row of the region averaged over `2 * radius + 1` pixels, the region's edge pixels repeated
 * beyond it (nothing outside the region is read), into `out` (the region's rows, packed): a
 * running sum, one add and one subtract a pixel whatever the radius.
 */
function blurRows(data: Uint8Array, width: number, x1: number, y1: number, x2: number, y2: number, radius: number, out: Uint8Array): void {
  const w = x2 - x1;
  const norm = 1 / (2 * radius + 1);
  // Sums start with the left edge repeated radius + 1 times; past the right edge, its last pixel.
  const inside = Math.min(radius, w - 1);
  for (let y = y1; y < y2; y++) {
    const row = (y * width + x1) * 3;
    const to = (y - y1) * w * 3;
    for (let c = 0; c < 3; c++) {
      const first = row + c;
      const last = first + (w - 1) * 3;
      let sum = (radius + 1) * data[first]! + (radius - inside) * data[last]!;
      for (let k = 1; k <= inside; k++) sum += data[first + k * 3]!;
      for (let x = 0; x < w; x++) {
        out[to + x * 3 + c] = (sum * norm + 0.5) | 0;
        const enter = x + radius + 1;
        const leave = x - radius;
        sum += data[first + (enter < w ? enter : w - 1) * 3]! - data[first + (leave > 0 ? leave : 0) * 3]!;
      }
    }
  }
}

/**
 * Each column of the packed region `rows` averaged over `2 * radius + 1` rows, edge rows
 * repeated, written back into the region of the frame: running sums per column (`sums`, one per
 * column and channel), swept down the rows so that memory is read in order.
 */
function blurColumns(rows: Uint8Array, data: Uint8Array, width: number, x1: number, y1: number, x2: number, y2: number, radius: number, sums: Int32Array): void {
  const stride = (x2 - x1) * 3;
  const h = y2 - y1;
  const norm = 1 / (2 * radius + 1);
  const inside = Math.min(radius, h - 1);
  const lastRow = (h - 1) * stride;
  for (let i = 0; i < stride; i++) sums[i] = (radius + 1) * rows[i]! + (radius - inside) * rows[lastRow + i]!;
  for (let k = 1; k <= inside; k++) {
    const from = k * stride;
    for (let i = 0; i < stride; i++) sums[i]! += rows[from + i]!;
  }
  for (let y = 0; y < h; y++) {
    const to = ((y1 + y) * width + x1) * 3;
    const enter = Math.min(y + radius + 1, h - 1) * stride;
    const leave = Math.max(y - radius, 0) * stride;
    for (let i = 0; i < stride; i++) {
      const sum = sums[i]!;
      data[to + i] = (sum * norm + 0.5) | 0;
      sums[i] = sum + rows[enter + i]! - rows[leave + i]!;
    }
  }
}
