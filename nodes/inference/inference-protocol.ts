/** Messages between a {@link ModelSession} and its worker thread (inference-worker.js). */
import type { ExecutionProvider } from '../../pipeline/node.ts';
import type { ModelInput } from './model-catalog.ts';
import type { RgbImage } from './preprocess.ts';
import type { SliceRegion } from './slices.ts';

export interface OpenRequest {
  readonly type: 'open';
  readonly weights: Uint8Array;
  /** Tried in order; the first that loads the model wins. */
  readonly providers: readonly ExecutionProvider[];
  /** What the model expects, for preparing images on the worker's own thread. */
  readonly modelInput: ModelInput;
  /**
   * One Int32 in shared memory, the same for every session of the process: WebGPU sessions hold
   * it while they touch the GPU device (see inference-worker.js).
   */
  readonly deviceLock: Int32Array;
}

/**
 * What to run the model on: a prepared NCHW float32 tensor of the model's input size, or a frame
 * the worker prepares itself (resize, colour order, normalization; see preprocess.ts). A frame in
 * shared memory crosses to the worker without a copy.
 */
export type RunInput = ({ readonly tensor: Float32Array } | { readonly image: RgbImage }) & {
  /** The input size of this run, for a model whose catalog entry is `dynamic`; else the catalog's. */
  readonly size?: InputSize;
};

export interface InputSize {
  readonly width: number;
  readonly height: number;
}

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly inputName: string;
  readonly input: RunInput;
  readonly outputs: readonly string[];
}

/**
 * Runs the model on several regions of one frame (slices.ts) as one unit: in one batched run
 * when the model's batch dimension is dynamic, one run after the other otherwise. The other
 * requests wait until all of them are done.
 */
export interface RunSlicesRequest {
  readonly type: 'run-slices';
  readonly id: number;
  readonly inputName: string;
  readonly image: RgbImage;
  readonly regions: readonly SliceRegion[];
  readonly outputs: readonly string[];
}

export type WorkerRequest = OpenRequest | RunRequest | RunSlicesRequest | { readonly type: 'release' };

export interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | Uint8Array;
}

export type WorkerReply =
  | {
      readonly type: 'opened';
      readonly provider: ExecutionProvider;
      /** Providers tried before, each with why it could not run the model. */
      readonly failures: readonly string[];
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
      readonly inputShapes: readonly { readonly name: string; readonly shape: readonly (number | string)[] | undefined }[];
      /** The model's batch dimension is dynamic: slices run as one batch. */
      readonly batchesSlices: boolean;
    }
  | { readonly type: 'open-failed'; readonly failures: readonly string[] }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Readonly<Record<string, OutputTensor>> }
  | {
      readonly type: 'slices-result';
      readonly id: number;
      /** The outputs of each region, in request order, each with batch dimension 1. */
      readonly slices: readonly Readonly<Record<string, OutputTensor>>[];
      /** Milliseconds of each model run (one when batched, one per region otherwise). */
      readonly runMs: readonly number[];
    }
  | { readonly type: 'run-failed'; readonly id: number; readonly message: string };
