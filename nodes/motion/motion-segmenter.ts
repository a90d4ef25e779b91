/**
 * One stream's moving-object finder, frame after frame: grey downscale, camera motion (phase
 * correlation), background model moved by that motion (with `colour`, one for each
 * colour-difference plane too), foreground cleaned by morphology, blobs by connected components,
 * each blob's mask scaled back to frame pixels.
 *
 * Pure computation with state, no threads and no clock: the node runs it on a worker thread
 * (motion-worker.js), tests and the bench call it directly, and time is the frames' own `ptsMs`.
 */
import type { CroppedMask } from '../../lib/geometry/pixel-runs.ts';
import { BackgroundModel, type Settle } from './background-model.ts';
import { boxBlur3 } from './box-blur.ts';
import { CameraMotionEstimator } from './camera-motion.ts';
import { ConnectedComponents } from './connected-components.ts';
import { GreyDownscale } from './grey-downscale.ts';
import { Morphology } from './morphology.ts';

export interface MotionOptions {
  /** Width of the grey image the work is done on; the height follows the frame's aspect ratio. */
  readonly processWidth: number;
  readonly threshold: number;
  readonly deviations: number;
  readonly adaptation: number;
  readonly settle: Settle;
  /** Blobs smaller than this, in frame pixels, are noise. */
  readonly minArea: number;
  /** Blobs larger than this fraction of the frame are not objects (a flash, a lost background). */
  readonly maxAreaFraction: number;
  /** Radius of the opening (speck removal) and closing (hole filling), in grey pixels. */
  readonly openRadius: number;
  readonly closeRadius: number;
  /** Estimate camera motion and move the background with it. */
  readonly compensateCamera: boolean;
  /** Camera motion proposals less sure than this (phase correlation peak height) are not considered. */
  readonly minMotionConfidence: number;
  /** Also look for motion in the colour-difference planes (two more background models). */
  readonly colour?: boolean;
}

export interface MotionBlob {
  /** Frame pixels, `[x1, y1, x2, y2]`, far edges exclusive. */
  readonly box: readonly [number, number, number, number];
  /** Frame pixels the mask covers. */
  readonly area: number;
  /** The blob at frame resolution, cropped to its box. */
  readonly mask: CroppedMask;
}

export interface MotionResult {
  /** Previous frame → this one, in frame pixels; absent on a stream's first frame or with compensation off. */
  readonly cameraMotion?: { readonly affine: readonly [number, number, number, number, number, number]; readonly confidence: number };
  readonly blobs: readonly MotionBlob[];
  /** Fraction of the grey pixels the background model judged (0 while it settles, then 1 for a fixed camera). */
  readonly settledFraction: number;
  /** Milliseconds spent, by step: what the bench reports. */
  readonly timings: { readonly grey: number; readonly cameraMotion: number; readonly background: number; readonly blobs: number };
}

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Everything sized for one frame size; made again if the stream's size changes. */
interface Sized {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly downscale: GreyDownscale;
  readonly grey: Float32Array;
  readonly foreground: Uint8Array;
  readonly background: BackgroundModel;
  readonly morphology: Morphology;
  readonly components: ConnectedComponents;
  readonly cameraMotion: CameraMotionEstimator | undefined;
  /** With `colour`: the Cb and Cr planes, each with its own background and what moves there. */
  readonly chroma: readonly ChromaPlane[];
  readonly blurScratch: Float32Array;
  /** Grey column and row of each frame column and row. */
  readonly greyColumn: Int32Array;
  readonly greyRow: Int32Array;
}

/** One colour-difference plane: its image, its background, and where it differs from it. */
interface ChromaPlane {
  readonly image: Float32Array;
  readonly background: BackgroundModel;
  readonly foreground: Uint8Array;
}

export class MotionSegmenter {
  private sized: Sized | undefined;

  constructor(private readonly options: MotionOptions) {}

  process(frame: RgbFrame, ptsMs: number): MotionResult {
    const sized = this.sizedFor(frame.width, frame.height);
    const { downscale, grey, foreground, background, morphology, components, cameraMotion } = sized;
    const { width: gw, height: gh } = downscale.size;
    const scaleX = frame.width / gw;
    const scaleY = frame.height / gh;

    const { chroma } = sized;
    let t = performance.now();
    downscale.apply(frame.data, grey, chroma.length === 2 ? { cb: chroma[0]!.image, cr: chroma[1]!.image } : undefined);
    for (const plane of chroma) boxBlur3(plane.image, gw, gh, sized.blurScratch);
    const greyMs = performance.now() - t;

    t = performance.now();
    // `foreground` still holds the previous frame's moving pixels here.
    const shift = cameraMotion?.estimate(grey, foreground);
    const shiftX = shift?.dx ?? 0;
    const shiftY = shift?.dy ?? 0;
    const cameraMotionMs = performance.now() - t;

    t = performance.now();
    const judged = background.update(grey, ptsMs, shiftX, shiftY, foreground);
    // A pixel moves when it moves in brightness or in either colour plane; each plane moves with
    // the camera and settles as the grey one does.
    for (const plane of chroma) {
      plane.background.update(plane.image, ptsMs, shiftX, shiftY, plane.foreground);
      const moving = plane.foreground;
      for (let i = 0; i < moving.length; i++) foreground[i] = foreground[i]! | moving[i]!;
    }
    morphology.clean(foreground, this.options.openRadius, this.options.closeRadius);
    const backgroundMs = performance.now() - t;

    t = performance.now();
    const minGreyArea = Math.max(1, this.options.minArea / (scaleX * scaleY));
    const maxGreyArea = this.options.maxAreaFraction * gw * gh;
    const blobs = components
      .find(foreground, minGreyArea)
      .filter((b) => b.area <= maxGreyArea)
      .map((b) => this.frameBlob(sized, b.label, b.x1, b.y1, b.x2, b.y2));
    const blobsMs = performance.now() - t;

    return {
      ...(shift === undefined
        ? {}
        : { cameraMotion: { affine: [1, 0, shiftX * scaleX, 0, 1, shiftY * scaleY] as const, confidence: shift.confidence } }),
      blobs,
      settledFraction: judged / (gw * gh),
      timings: { grey: greyMs, cameraMotion: cameraMotionMs, background: backgroundMs, blobs: blobsMs },
    };
  }

  /** The blob of `label` at frame resolution: each frame pixel takes the label of the grey pixel it falls in. */
  private frameBlob(sized: Sized, label: number, gx1: number, gy1: number, gx2: number, gy2: number): MotionBlob {
    const { greyColumn, greyRow, components, frameWidth, frameHeight, downscale } = sized;
    const gw = downscale.size.width;
    const x1 = Math.floor((gx1 * frameWidth) / gw);
    const x2 = Math.min(frameWidth, Math.ceil((gx2 * frameWidth) / gw));
    const y1 = Math.floor((gy1 * frameHeight) / downscale.size.height);
    const y2 = Math.min(frameHeight, Math.ceil((gy2 * frameHeight) / downscale.size.height));
    const width = x2 - x1;
    const height = y2 - y1;
    const data = new Uint8Array(width * height);
    const labels = components.labels;
    let area = 0;
    // Tight bounds of what the mask really covers, which the grey box's rounding may overstate.
    let bx1 = width;
    let by1 = height;
    let bx2 = 0;
    let by2 = 0;
    for (let y = 0; y < height; y++) {
      const greyRowStart = greyRow[y1 + y]! * gw;
      for (let x = 0; x < width; x++) {
        if (labels[greyRowStart + greyColumn[x1 + x]!] !== label) continue;
        data[y * width + x] = 1;
        area++;
        if (x < bx1) bx1 = x;
        if (x + 1 > bx2) bx2 = x + 1;
        if (y < by1) by1 = y;
        if (y + 1 > by2) by2 = y + 1;
      }
    }
    // Cropped to those bounds, as the heads crop instance masks to their boxes.
    const tightWidth = bx2 - bx1;
    const tight = new Uint8Array(tightWidth * (by2 - by1));
    for (let y = by1; y < by2; y++) tight.set(data.subarray(y * width + bx1, y * width + bx2), (y - by1) * tightWidth);
    const box = [x1 + bx1, y1 + by1, x1 + bx2, y1 + by2] as const;
    return { box, area, mask: { x: box[0], y: box[1], width: tightWidth, height: by2 - by1, data: tight } };
  }

  private sizedFor(frameWidth: number, frameHeight: number): Sized {
    if (this.sized?.frameWidth === frameWidth && this.sized.frameHeight === frameHeight) return this.sized;
    const downscale = new GreyDownscale(frameWidth, frameHeight, this.options.processWidth);
    const { width, height } = downscale.size;
    const n = width * height;
    const greyColumn = Int32Array.from({ length: frameWidth }, (_, x) => Math.min(width - 1, Math.floor((x * width) / frameWidth)));
    const greyRow = Int32Array.from({ length: frameHeight }, (_, y) => Math.min(height - 1, Math.floor((y * height) / frameHeight)));
    this.sized = {
      frameWidth,
      frameHeight,
      downscale,
      grey: new Float32Array(n),
      foreground: new Uint8Array(n),
      background: new BackgroundModel(width, height, this.options),
      morphology: new Morphology(width, height),
      components: new ConnectedComponents(width, height),
      cameraMotion: this.options.compensateCamera ? new CameraMotionEstimator(width, height, this.options.minMotionConfidence) : undefined,
      chroma: this.options.colour
        ? [0, 1].map(() => ({ image: new Float32Array(n), background: new BackgroundModel(width, height, this.options), foreground: new Uint8Array(n) }))
        : [],
      blurScratch: new Float32Array(this.options.colour ? n : 0),
      greyColumn,
      greyRow,
    };
    return this.sized;
  }
}
