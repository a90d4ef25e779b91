/**
 * Frame → model input: resize (stretch or letterbox), colour order, normalization, NCHW float32,
 * written into one buffer that is reused for every frame.
 */
import type { ModelInput } from './model-catalog.ts';
import type { SliceRegion } from './slices.ts';

/** How frame pixels map into the model's input: `model = frame * scale + pad`, per axis. */
export interface InputTransform {
  readonly scaleX: number;
  readonly scaleY: number;
  readonly padX: number;
  readonly padY: number;
}

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Prepares `image`, or only its `region` (a slice, see slices.ts), as the model's input. The
 * transform maps region pixels to model pixels; {@link sliceTransform} maps frame pixels.
 */
export type Preprocessor = (image: RgbImage, region?: SliceRegion) => { tensor: Float32Array; transform: InputTransform };

/** Source index pairs and weights for bilinear sampling along one axis (half-pixel centres). */
interface AxisPlan {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly weight: Float32Array;
}

function planAxis(outSize: number, srcSize: number, scale: number): AxisPlan {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const weight = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const s = Math.min(Math.max((i + 0.5) / scale - 0.5, 0), srcSize - 1);
    const l = Math.floor(s);
    lo[i] = l;
    hi[i] = Math.min(l + 1, srcSize - 1);
    weight[i] = s - l;
  }
  return { lo, hi, weight };
}

interface ResizePlan {
  /** Frame size and region the plan is for. */
  readonly key: string;
  readonly transform: InputTransform;
  /** The region of the input the frame covers (the rest is padding). */
  readonly contentWidth: number;
  readonly contentHeight: number;
  readonly xs: AxisPlan;
  readonly ys: AxisPlan;
}

export function inputTransformFor(input: ModelInput, srcWidth: number, srcHeight: number): InputTransform {
  if (input.resize === 'stretch') {
    return { scaleX: input.width / srcWidth, scaleY: input.height / srcHeight, padX: 0, padY: 0 };
  }
  const scale = Math.min(input.width / srcWidth, input.height / srcHeight);
  const contentWidth = Math.round(srcWidth * scale);
  const contentHeight = Math.round(srcHeight * scale);
  const centred = input.resize === 'letterbox-center';
  const padX = centred ? Math.floor((input.width - contentWidth) / 2) : 0;
  const padY = centred ? Math.floor((input.height - contentHeight) / 2) : 0;
  return { scaleX: scale, scaleY: scale, padX, padY };
}

/**
 * The transform from frame pixels to model pixels when the model looks at `region` of the frame:
 * the region's own transform, shifted by the region's origin. Decoders map boxes and masks back
 * to the frame through it, exactly as for a whole frame.
 */
export function sliceTransform(input: ModelInput, region: SliceRegion): InputTransform {
  const t = inputTransformFor(input, region.width, region.height);
  return { scaleX: t.scaleX, scaleY: t.scaleY, padX: t.padX - region.x * t.scaleX, padY: t.padY - region.y * t.scaleY };
}

function shiftAxis(plan: AxisPlan, by: number): AxisPlan {
  if (by !== 0) {
    for (let i = 0; i < plan.lo.length; i++) {
      plan.lo[i] += by;
      plan.hi[i] += by;
    }
  }
  return plan;
}

function planResize(input: ModelInput, key: string, region: SliceRegion): ResizePlan {
  const { x, y, width: srcWidth, height: srcHeight } = region;
  const transform = inputTransformFor(input, srcWidth, srcHeight);
  const contentWidth = Math.min(input.width - transform.padX, Math.round(srcWidth * transform.scaleX));
  const contentHeight = Math.min(input.height - transform.padY, Math.round(srcHeight * transform.scaleY));
  return {
    key,
    transform,
    contentWidth,
    contentHeight,
    // Sampling positions are found within the region, then moved to where it is in the frame.
    xs: shiftAxis(planAxis(contentWidth, srcWidth, transform.scaleX), x),
    ys: shiftAxis(planAxis(contentHeight, srcHeight, transform.scaleY), y),
  };
}

/**
 * A preprocessor for one model input. It owns its output tensor: the caller must be done with
 * one frame's tensor (the model run has finished) before preparing the next.
 */
export function createPreprocessor(input: ModelInput): Preprocessor {
  if (input.colorOrder === 'grey') return createGreyPreprocessor(input);
  const { width, height } = input;
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  // Normalization is affine, so it commutes with bilinear interpolation: x = v * gain + offset.
  // mean and std are per output plane, in `colorOrder` (the catalog's convention): BGR models
  // list the blue mean first.
  const gain = input.normalize.std.map((s) => input.normalize.scale / s);
  const offset = input.normalize.mean.map((m, c) => -m / input.normalize.std[c]!);
  // Output plane c reads source channel sourceChannel[c] of the RGB frame.
  const sourceChannel = input.colorOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  let plan: ResizePlan | undefined;

  return (image, region) => {
    const key = region
      ? `${image.width}x${image.height}@${region.x},${region.y},${region.width}x${region.height}`
      : `${image.width}x${image.height}`;
    if (!plan || plan.key !== key) {
      if (region && (region.x < 0 || region.y < 0 || region.x + region.width > image.width || region.y + region.height > image.height)) {
        throw new Error(`slice ${region.width}x${region.height} at ${region.x},${region.y} leaves the ${image.width}x${image.height} frame`);
      }
      plan = planResize(input, key, region ?? { x: 0, y: 0, width: image.width, height: image.height });
      for (let c = 0; c < 3; c++) {
        const padValue = input.pad * gain[c]! + offset[c]!;
        tensor.fill(padValue, c * plane, (c + 1) * plane);
      }
    }
    const { xs, ys, contentWidth, contentHeight, transform } = plan;
    const src = image.data;
    const rowStride = image.width * 3;
    // All three channels in one pass: each source neighbourhood is read once, not once per plane.
    const [c0, c1, c2] = sourceChannel as [number, number, number];
    const g0 = gain[0]!, g1 = gain[1]!, g2 = gain[2]!;
    const o0 = offset[0]!, o1 = offset[1]!, o2 = offset[2]!;
    for (let y = 0; y < contentHeight; y++) {
      const row0 = ys.lo[y]! * rowStride;
      const row1 = ys.hi[y]! * rowStride;
      const wy = ys.weight[y]!;
      let out = (y + transform.padY) * width + transform.padX;
      for (let x = 0; x < contentWidth; x++, out++) {
        const x0 = xs.lo[x]! * 3;
        const x1 = xs.hi[x]! * 3;
        const wx = xs.weight[x]!;
        const a = row0 + x0;
        const b = row0 + x1;
        const c = row1 + x0;
        const d = row1 + x1;
        let top = src[a + c0]! + (src[b + c0]! - src[a + c0]!) * wx;
        let bottom = src[c + c0]! + (src[d + c0]! - src[c + c0]!) * wx;
        tensor[out] = (top + (bottom - top) * wy) * g0 + o0;
        top = src[a + c1]! + (src[b + c1]! - src[a + c1]!) * wx;
        bottom = src[c + c1]! + (src[d + c1]! - src[c + c1]!) * wx;
        tensor[plane + out] = (top + (bottom - top) * wy) * g1 + o1;
        top = src[a + c2]! + (src[b + c2]! - src[a + c2]!) * wx;
        bottom = src[c + c2]! + (src[d + c2]! - src[c + c2]!) * wx;
        tensor[2 * plane + out] = (top + (bottom - top) * wy) * g2 + o2;
      }
    }
    return { tensor, transform };
  };
}

/** Planes of the model's input tensor: one for grey, three for colour. */
export function inputChannels(input: Pick<ModelInput, 'colorOrder'>): number {
  return input.colorOrder === 'grey' ? 1 : 3;
}

/** OpenCV's luma weights (`cvtColor(..., COLOR_RGB2GRAY)`), which grey models were trained with. */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * {@link createPreprocessor} for a one-plane grey input: luma, then the first channel's
 * normalization. Luma is linear too, so it is taken at the four neighbours and interpolated.
 */
function createGreyPreprocessor(input: ModelInput): Preprocessor {
  const { width, height } = input;
  const tensor = new Float32Array(width * height);
  const gain = input.normalize.scale / input.normalize.std[0];
  const offset = -input.normalize.mean[0] / input.normalize.std[0];
  const [wr, wg, wb] = LUMA;
  let plan: ResizePlan | undefined;

  return (image) => {
    const key = `${image.width}x${image.height}`;
    if (!plan || plan.key !== key) {
      plan = planResize(input, key, { x: 0, y: 0, width: image.width, height: image.height });
      tensor.fill(input.pad * gain + offset);
    }
    const { xs, ys, contentWidth, contentHeight, transform } = plan;
    const src = image.data;
    const rowStride = image.width * 3;
    const luma = (i: number) => src[i]! * wr + src[i + 1]! * wg + src[i + 2]! * wb;
    for (let y = 0; y < contentHeight; y++) {
      const row0 = ys.lo[y]! * rowStride;
      const row1 = ys.hi[y]! * rowStride;
      const wy = ys.weight[y]!;
      let out = (y + transform.padY) * width + transform.padX;
      for (let x = 0; x < contentWidth; x++, out++) {
        const x0 = xs.lo[x]! * 3;
        const x1 = xs.hi[x]! * 3;
        const wx = xs.weight[x]!;
        const a = luma(row0 + x0);
        const c = luma(row1 + x0);
        const top = a + (luma(row0 + x1) - a) * wx;
        const bottom = c + (luma(row1 + x1) - c) * wx;
        tensor[out] = (top + (bottom - top) * wy) * gain + offset;
      }
    }
    return { tensor, transform };
  };
}
