/** Messages between the motion-segmentation node and its worker thread (motion-worker.js). */
import type { MotionOptions, MotionResult } from './motion-segmenter.ts';

export interface ConfigureRequest {
  readonly type: 'configure';
  readonly options: MotionOptions;
}

/** One frame; `data` in a SharedArrayBuffer crosses without a copy. */
export interface FrameRequest {
  readonly type: 'frame';
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly ptsMs: number;
}

export type MotionRequest = ConfigureRequest | FrameRequest | { readonly type: 'close' };

export type MotionReply =
  /** Configured: the thread has loaded its code and is ready for frames. */
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: MotionResult }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };
