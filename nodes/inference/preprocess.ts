/**
 * Frame → model input: resize (stretch or letterbox), colour order, normalization, NCHW float32,
 * written into one buffer that is reused for every frame.
 */
import type { ModelInput } from './model-catalog.ts';

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

export type Preprocessor = (image: RgbImage) => { tensor: Float32Array; transform: InputTransform };

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
  readonly srcWidth: number;
  readonly srcHeight: number;
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

function planResize(input: ModelInput, srcWidth: number, srcHeight: number): ResizePlan {
  const transform = inputTransformFor(input, srcWidth, srcHeight);
  const contentWidth = Math.min(input.width - transform.padX, Math.round(srcWidth * transform.scaleX));
  const contentHeight = Math.min(input.height - transform.padY, Math.round(srcHeight * transform.scaleY));
  return {
    srcWidth,
    srcHeight,
    transform,
    contentWidth,
    contentHeight,
    xs: planAxis(contentWidth, srcWidth, transform.scaleX),
    ys: planAxis(contentHeight, srcHeight, transform.scaleY),
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
  const gain = input.normalize.std.map((s) => input.normalize.scale / s);
  const offset = input.normalize.mean.map((m, c) => -m / input.normalize.std[c]!);
  // Output plane c reads source channel sourceChannel[c] of the RGB frame.
  const sourceChannel = input.colorOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  let plan: ResizePlan | undefined;

  return (image) => {
    if (!plan || plan.srcWidth !== image.width || plan.srcHeight !== image.height) {
      plan = planResize(input, image.width, image.height);
      for (let c = 0; c < 3; c++) {
        const padValue = input.pad * gain[sourceChannel[c]!]! + offset[sourceChannel[c]!]!;
        tensor.fill(padValue, c * plane, (c + 1) * plane);
      }
    }
    const { xs, ys, contentWidth, contentHeight, transform } = plan;
    const src = image.data;
    const rowStride = image.width * 3;
    // All three channels in one pass: each source neighbourhood is read once, not once per plane.
    const [c0, c1, c2] = sourceChannel as [number, number, number];
    const g0 = gain[c0]!, g1 = gain[c1]!, g2 = gain[c2]!;
    const o0 = offset[c0]!, o1 = offset[c1]!, o2 = offset[c2]!;
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
    if (!plan || plan.srcWidth !== image.width || plan.srcHeight !== image.height) {
      plan = planResize(input, image.width, image.height);
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
