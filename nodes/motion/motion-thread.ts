/** The main thread's side of motion-worker.js: one worker per stream, requests matched to replies. */
import { Worker } from 'node:worker_threads';
import type { MotionReply, MotionRequest } from './motion-protocol.ts';
import type { MotionOptions, MotionResult, RgbFrame } from './motion-segmenter.ts';

const WORKER_URL = new URL('./motion-worker.js', import.meta.url);

export class MotionThread {
  private readonly worker = new Worker(WORKER_URL);
  private readonly pending = new Map<number, { resolve: (r: MotionResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private started: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Settles once the thread has loaded its code (about a second the first time: the TypeScript loader). */
  readonly ready: Promise<void>;

  constructor(options: MotionOptions) {
    // A stream that ends without a clean stop must not keep the process alive for this thread.
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => (this.started = { resolve, reject }));
    this.worker.on('message', (reply: MotionReply) => {
      if (reply.type === 'ready') return this.started?.resolve();
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'result') waiter?.resolve(reply.result);
      else waiter?.reject(new Error(`motion-segmentation: ${reply.message}`));
    });
    this.worker.on('error', (err) => this.fail(new Error(`motion-segmentation: worker thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`motion-segmentation: worker thread exited with code ${code}`));
    });
    this.send({ type: 'configure', options });
  }

  private send(request: MotionRequest): void {
    this.worker.postMessage(request);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.started?.reject(err);
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Frames must come in stream order: the worker's background model learns from each in turn. */
  process(frame: RgbFrame, ptsMs: number): Promise<MotionResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only what the worker reads crosses to it; shared memory crosses without a copy.
      this.send({ type: 'frame', id, width: frame.width, height: frame.height, data: frame.data, ptsMs });
    });
  }

  async close(): Promise<void> {
    this.send({ type: 'close' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
