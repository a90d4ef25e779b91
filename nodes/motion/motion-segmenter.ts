/**
 * One stream's moving-object finder, frame after frame: grey downscale, camera motion (corners
 * followed from a key frame, camera-motion.ts), the frame read into the background's own
 * pixel grid through the camera motion summed since that grid was laid (with rotation and scale,
 * sub-pixel: nothing is rounded away frame by frame), background model (with `colour`, one for
 * each colour-difference plane too), foreground cleaned by morphology, blobs by connected
 * components, pieces that lie together joined into one thing, and only blobs that persist over
 * `persistFrames` frames kept; each blob's mask mapped back to frame pixels.
 *
 * Pure computation with state, no threads and no clock: the node runs it on a worker thread
 * (motion-worker.js), tests and the bench call it directly, and time is the frames' own `ptsMs`.
 */
import {
  IDENTITY_AFFINE,
  applyAffine,
  composeAffine,
  invertAffine,
  isIdentityAffine,
  largestCornerShift,
  scaleAffine,
  type Affine,
} from '../../lib/geometry/affine.ts';
import type { CroppedMask } from '../../lib/geometry/pixel-runs.ts';
import { BackgroundModel, type Settle } from './background-model.ts';
import { boxBlur3 } from './box-blur.ts';
import { joinPieces, type BlobGroup } from './blob-groups.ts';
import { BlobPersistence } from './blob-persistence.ts';
import { CameraMotionEstimator } from './camera-motion.ts';
import { ConnectedComponents } from './connected-components.ts';
import { GreyDownscale } from './grey-downscale.ts';
import { Morphology } from './morphology.ts';
import { warpBilinear } from './warp.ts';

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
  /** Camera motion estimates that fewer of the followed corners agree with (a share, 0..1) are taken as none. */
  readonly minMotionConfidence: number;
  /** A pixel moves only if it differs from the background of every grey pixel this close (0: its own only). */
  readonly jitterRadius?: number;
  /** Blobs whose boxes lie this close, as a share of the smaller one's longer side, are pieces of one thing. */
  readonly joinGap?: number;
  /** Frames in a row a blob must be seen (overlapping its last sighting) before it is reported. */
  readonly persistFrames?: number;
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
  readonly cameraMotion?: { readonly affine: Affine; readonly confidence: number };
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
  /** A plane read into the background's grid (when the camera has moved since it was laid). */
  readonly warped: Float32Array;
  readonly persistence: BlobPersistence;
}

/** One colour-difference plane: its image, its background, and where it differs from it. */
interface ChromaPlane {
  readonly image: Float32Array;
  readonly background: BackgroundModel;
  readonly foreground: Uint8Array;
}

/** Once the background's grid is this far (grey pixels, at a corner) from the camera's, it is moved to it. */
const REGRID_AT = 4;
/** A registration that moves no corner of the grey picture this far (grey pixels) is applied as none. */
const NEGLIGIBLE_SHIFT = 0.25;
/** A grid moved by whole pixels keeps a rotation or zoom under this (grey pixels at a corner); more is resampled. */
const WHOLE_PIXEL_SHIFT_UP_TO = 0.5;

export class MotionSegmenter {
  private sized: Sized | undefined;
  /**
   * Background grid → this frame's grey pixels: every believed camera motion since the grid was
   * laid, composed. The identity for a fixed camera.
   */
  private registration: Affine = IDENTITY_AFFINE;

  constructor(private readonly options: MotionOptions) {}

  process(frame: RgbFrame, ptsMs: number): MotionResult {
    const sized = this.sizedFor(frame.width, frame.height);
    const { downscale, grey, foreground, background, morphology, components, cameraMotion, chroma } = sized;
    const { width: gw, height: gh } = downscale.size;
    const scaleX = frame.width / gw;
    const scaleY = frame.height / gh;

    let t = performance.now();
    downscale.apply(frame.data, grey, chroma.length === 2 ? { cb: chroma[0]!.image, cr: chroma[1]!.image } : undefined);
    for (const plane of chroma) boxBlur3(plane.image, gw, gh, sized.blurScratch);
    const greyMs = performance.now() - t;

    t = performance.now();
    // `foreground` still holds the previous frame's moving pixels, in the background's grid.
    // Asked for many pixels a frame (the misfit's samples): plain arithmetic, no arrays.
    const [ga, gb, gc, gd, ge, gf] = invertAffine(this.registration);
    const movingBefore = (x: number, y: number): boolean => {
      const gx = Math.round(ga * x + gb * y + gc);
      const gy = Math.round(gd * x + ge * y + gf);
      return gx >= 0 && gy >= 0 && gx < gw && gy < gh && foreground[gy * gw + gx] === 1;
    };
    const motion = cameraMotion?.estimate(grey, movingBefore);
    if (motion && !isIdentityAffine(motion.affine)) this.registration = composeAffine(motion.affine, this.registration);
    this.regridIfFar([background, ...chroma.map((plane) => plane.background)], gw, gh);
    const cameraMotionMs = performance.now() - t;

    t = performance.now();
    // Under a quarter pixel the frame is read as it is: resampling it would blur its edges more
    // than the misalignment costs (a still camera's rare tiny belief changes nothing).
    const aligned = largestCornerShift(this.registration, gw, gh) < NEGLIGIBLE_SHIFT;
    const inGrid = (image: Float32Array): Float32Array => {
      if (aligned) return image;
      warpBilinear(image, gw, gh, this.registration, sized.warped);
      return sized.warped;
    };
    const judged = background.update(inGrid(grey), ptsMs, foreground);
    // A pixel moves when it moves in brightness or in either colour plane; each plane's
    // background lives in the same grid and settles as the grey one does.
    for (const plane of chroma) {
      plane.background.update(inGrid(plane.image), ptsMs, plane.foreground);
      const moving = plane.foreground;
      for (let i = 0; i < moving.length; i++) foreground[i] = foreground[i]! | moving[i]!;
    }
    morphology.clean(foreground, this.options.openRadius, this.options.closeRadius);
    const backgroundMs = performance.now() - t;

    t = performance.now();
    const minGreyArea = Math.max(1, this.options.minArea / (scaleX * scaleY));
    const maxGreyArea = this.options.maxAreaFraction * gw * gh;
    const pieces = components.find(foreground, 1);
    const groups = joinPieces(pieces, this.options.joinGap ?? 0).filter((g) => g.area >= minGreyArea && g.area <= maxGreyArea);
    const lasting = sized.persistence.keep(groups, components.labels, this.options.persistFrames ?? 1);
    // A blob that rounding leaves without a frame pixel (one grey pixel at the frame's edge) is none.
    const toGrid = invertAffine(this.registration);
    const blobs = lasting.map((group) => this.frameBlob(sized, group, toGrid)).filter((blob) => blob.area > 0);
    const blobsMs = performance.now() - t;

    return {
      ...(motion === undefined
        ? {}
        : { cameraMotion: { affine: scaleAffine(motion.affine, scaleX, scaleY), confidence: motion.confidence } }),
      blobs,
      settledFraction: judged / (gw * gh),
      timings: { grey: greyMs, cameraMotion: cameraMotionMs, background: backgroundMs, blobs: blobsMs },
    };
  }

  /**
   * Moves the background's grid to the camera's once they are `REGRID_AT` apart: by whole
   * pixels while the camera has only slid (no resampling, nothing blurs; the fraction stays in
   * the registration), resampled once when it has also turned or zoomed.
   */
  private regridIfFar(models: readonly BackgroundModel[], gw: number, gh: number): void {
    const r = this.registration;
    if (largestCornerShift(r, gw, gh) < REGRID_AT) return;
    const linearOnly: Affine = [r[0], r[1], 0, r[3], r[4], 0];
    if (largestCornerShift(linearOnly, gw, gh) <= WHOLE_PIXEL_SHIFT_UP_TO) {
      // Content at grid p is at r(p) in the frame: shifting the grid by round(t) leaves the fraction.
      const dx = Math.round(r[2]);
      const dy = Math.round(r[5]);
      for (const model of models) model.shift(dx, dy);
      this.sized?.persistence.shift(dx, dy);
      // Grid p moved to p + d: the registration now reads r(p - d).
      this.registration = [r[0], r[1], r[2] - r[0] * dx - r[1] * dy, r[3], r[4], r[5] - r[3] * dx - r[4] * dy];
    } else {
      // New grid = the frame's: its pixel p had, in the old grid, r⁻¹(p).
      const back = invertAffine(r);
      for (const model of models) model.warp(back);
      this.sized?.persistence.warp(back);
      this.registration = IDENTITY_AFFINE;
    }
  }

  /**
   * The group's mask at frame resolution: each frame pixel takes the label of the grid pixel
   * its centre falls in (through the registration when the camera has moved).
   */
  private frameBlob(sized: Sized, group: BlobGroup, toGrid: Affine): MotionBlob {
    const { components, frameWidth, frameHeight, downscale } = sized;
    const { width: gw, height: gh } = downscale.size;
    const scaleX = frameWidth / gw;
    const scaleY = frameHeight / gh;
    const r = this.registration;
    // The group's grid box, through the registration, in frame pixels.
    let fx1 = Infinity;
    let fy1 = Infinity;
    let fx2 = -Infinity;
    let fy2 = -Infinity;
    for (const [gx, gy] of [[group.x1, group.y1], [group.x2, group.y1], [group.x1, group.y2], [group.x2, group.y2]] as const) {
      const [x, y] = applyAffine(r, gx - 0.5, gy - 0.5);
      fx1 = Math.min(fx1, (x + 0.5) * scaleX);
      fy1 = Math.min(fy1, (y + 0.5) * scaleY);
      fx2 = Math.max(fx2, (x + 0.5) * scaleX);
      fy2 = Math.max(fy2, (y + 0.5) * scaleY);
    }
    const x1 = Math.max(0, Math.floor(fx1));
    const y1 = Math.max(0, Math.floor(fy1));
    const x2 = Math.min(frameWidth, Math.ceil(fx2));
    const y2 = Math.min(frameHeight, Math.ceil(fy2));
    const width = Math.max(0, x2 - x1);
    const height = Math.max(0, y2 - y1);
    const data = new Uint8Array(width * height);
    const labels = components.labels;
    const members = group.labels;
    let area = 0;
    // Tight bounds of what the mask really covers, which the box's rounding may overstate.
    let bx1 = width;
    let by1 = height;
    let bx2 = 0;
    let by2 = 0;
    const [a, b, c, d, e, f] = toGrid;
    for (let y = 0; y < height; y++) {
      const cy = (y1 + y + 0.5) / scaleY - 0.5;
      for (let x = 0; x < width; x++) {
        const cx = (x1 + x + 0.5) / scaleX - 0.5;
        const gx = Math.round(a * cx + b * cy + c);
        const gy = Math.round(d * cx + e * cy + f);
        if (gx < 0 || gy < 0 || gx >= gw || gy >= gh) continue;
        const label = labels[gy * gw + gx]!;
        if (label === 0 || !(members.length === 1 ? label === members[0] : members.includes(label))) continue;
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
    this.registration = IDENTITY_AFFINE;
    this.sized = {
      frameWidth,
      frameHeight,
      downscale,
      grey: new Float32Array(n),
      foreground: new Uint8Array(n),
      background: new BackgroundModel(width, height, { ...this.options, exposureGain: true }),
      morphology: new Morphology(width, height),
      components: new ConnectedComponents(width, height),
      cameraMotion: this.options.compensateCamera ? new CameraMotionEstimator(width, height, this.options.minMotionConfidence) : undefined,
      chroma: this.options.colour
        ? [0, 1].map(() => ({ image: new Float32Array(n), background: new BackgroundModel(width, height, this.options), foreground: new Uint8Array(n) }))
        : [],
      blurScratch: new Float32Array(this.options.colour ? n : 0),
      warped: new Float32Array(n),
      persistence: new BlobPersistence(width, height),
    };
    return this.sized;
  }
}
