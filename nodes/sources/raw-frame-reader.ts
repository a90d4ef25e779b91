/**
 * Cuts a raw video byte stream (ffmpeg's `-f rawvideo` stdout) into frames.
 *
 * A pipe hands over bytes in chunks that have nothing to do with frame boundaries (64 KiB, or
 * whatever the kernel had). Each frame's bytes are copied once, straight from the chunks into a
 * pooled buffer, so nothing is concatenated or allocated per chunk or per frame.
 *
 * The pool is also the flow control. When every buffer is out downstream:
 * - `pause`: the reader keeps the rest of the chunk, asks the producer to stop, and carries on
 *   when a buffer comes back ({@link BufferPool.onRelease}): no frame is lost;
 * - `drop`: the next frame's bytes are skipped and the frame reported as dropped: the producer
 *   never waits, as a live camera cannot.
 */
import type { BufferPool } from '../../pipeline/buffer-pool.ts';
import type { Lease } from '../../pipeline/frame.ts';

/** What to do with a frame that starts while every pooled buffer is in use. */
export type PoolFullPolicy = 'pause' | 'drop';

export interface RawFrameReaderOptions {
  /** Bytes per frame: `width * height * 3` for rgb24. */
  readonly frameBytes: number;
  /** Buffers of at least `frameBytes` bytes; the reader sets its `onRelease` in `pause` mode. */
  readonly pool: BufferPool<Uint8Array>;
  readonly whenPoolFull: PoolFullPolicy;
  /**
   * A complete frame, in `buffer[0, frameBytes)`. `index` counts every frame of the stream from 0,
   * dropped ones included. Whoever receives it calls `release` once done with the buffer.
   */
  readonly onFrame: (buffer: Uint8Array, release: Lease, index: number) => void;
  /** A frame skipped because the pool was empty (`drop` mode). */
  readonly onDrop?: (index: number) => void;
  /** `pause` mode: stop sending chunks; the reader holds the unread rest of the last one. */
  readonly pauseProducer?: () => void;
  /** `pause` mode: a buffer came back and every held byte has been read; send more. */
  readonly resumeProducer?: () => void;
  /**
   * After {@link RawFrameReader.end}, once every byte pushed has been read: `trailingBytes` is the
   * size of an incomplete last frame, which is never emitted (0 when the stream ended on a frame).
   */
  readonly onEnd?: (trailingBytes: number) => void;
}

export class RawFrameReader {
  /** Chunks not read to the end yet; only non-empty while paused. References, never copies. */
  private readonly pending: Uint8Array[] = [];
  /** How far into `pending[0]` has been read. */
  private pendingOffset = 0;
  /** The buffer the current frame is copied into; `undefined` between frames and while skipping. */
  private current: { buffer: Uint8Array; release: Lease } | undefined;
  /** The current frame is being read into nothing (`drop` mode, pool was empty when it began). */
  private skipping = false;
  /** Bytes of the current frame read so far. */
  private filled = 0;
  private nextIndex = 0;
  private waitingForBuffer = false;
  private producerPaused = false;
  private draining = false;
  private releasedWhileDraining = false;
  private ended = false;
  private closed = false;

  constructor(private readonly options: RawFrameReaderOptions) {
    if (!Number.isInteger(options.frameBytes) || options.frameBytes < 1) {
      throw new RangeError(`frameBytes must be a positive integer, got ${options.frameBytes}`);
    }
    if (options.whenPoolFull === 'pause') options.pool.onRelease = () => this.bufferReleased();
  }

  /** Frames completed so far, dropped ones included. */
  get framesRead(): number {
    return this.nextIndex;
  }

  /** True while the reader holds bytes it cannot read until a pooled buffer comes back. */
  get isWaitingForBuffer(): boolean {
    return this.waitingForBuffer;
  }

  /**
   * Reads a chunk. The reader keeps a reference to it until it has been read, so the producer must
   * not reuse the memory (Node's stream chunks are never reused).
   */
  push(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return;
    if (this.ended) throw new Error('RawFrameReader: push() after end()');
    this.pending.push(chunk);
    this.drain();
  }

  /** The producer has no more bytes; `onEnd` follows once the held ones are read. */
  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.drain();
  }

  /**
   * Stops for good: held chunks are forgotten, a frame half-read is given back to the pool, and
   * nothing is called any more. For unsubscribing; safe to call more than once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    this.current?.release();
    this.current = undefined;
    if (this.options.whenPoolFull === 'pause') this.options.pool.onRelease = undefined;
  }

  private bufferReleased(): void {
    if (this.closed) return;
    // A consumer may give a buffer back inside onFrame, while the loop below runs: remember it,
    // so that the loop tries the pool again rather than waiting for a release that already came.
    if (this.draining) {
      this.releasedWhileDraining = true;
      return;
    }
    if (this.waitingForBuffer) this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      do {
        this.waitingForBuffer = false;
        this.releasedWhileDraining = false;
        this.readPending();
      } while (this.waitingForBuffer && this.releasedWhileDraining && !this.closed);
    } finally {
      this.draining = false;
    }
    if (this.closed || this.waitingForBuffer) return;
    if (this.producerPaused) {
      this.producerPaused = false;
      this.options.resumeProducer?.();
      // Resuming may have pushed (and even ended) synchronously; that push drained on its own.
      if (this.closed || this.waitingForBuffer) return;
    }
    if (this.ended && this.pending.length === 0) this.finish();
  }

  private readPending(): void {
    const { frameBytes } = this.options;
    while (this.pending.length > 0 && !this.closed) {
      const chunk = this.pending[0]!;
      while (this.pendingOffset < chunk.length) {
        if (this.filled === 0 && !this.current && !this.skipping && !this.startFrame()) return;
        const count = Math.min(frameBytes - this.filled, chunk.length - this.pendingOffset);
        this.current?.buffer.set(chunk.subarray(this.pendingOffset, this.pendingOffset + count), this.filled);
        this.filled += count;
        this.pendingOffset += count;
        if (this.filled === frameBytes) {
          this.completeFrame();
          if (this.closed) return;
        }
      }
      this.pending.shift();
      this.pendingOffset = 0;
    }
  }

  /** Takes a buffer for the next frame, or decides to skip it; false when the reader must wait. */
  private startFrame(): boolean {
    const lease = this.options.pool.acquire();
    if (lease) {
      if (lease.buffer.length < this.options.frameBytes) {
        lease.release();
        throw new RangeError(`pool buffers hold ${lease.buffer.length} bytes, a frame needs ${this.options.frameBytes}`);
      }
      this.current = lease;
      return true;
    }
    if (this.options.whenPoolFull === 'drop') {
      this.skipping = true;
      return true;
    }
    this.waitingForBuffer = true;
    if (!this.producerPaused) {
      this.producerPaused = true;
      this.options.pauseProducer?.();
    }
    return false;
  }

  private completeFrame(): void {
    const index = this.nextIndex++;
    const frame = this.current;
    this.current = undefined;
    this.skipping = false;
    this.filled = 0;
    if (frame) this.options.onFrame(frame.buffer, frame.release, index);
    else this.options.onDrop?.(index);
  }

  private finish(): void {
    const trailingBytes = this.filled;
    this.current?.release();
    this.current = undefined;
    this.skipping = false;
    this.filled = 0;
    this.closed = true;
    if (this.options.whenPoolFull === 'pause') this.options.pool.onRelease = undefined;
    this.options.onEnd?.(trailingBytes);
  }
}
