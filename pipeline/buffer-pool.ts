import type { Lease } from './frame.ts';

/**
 * A fixed set of equally sized buffers handed out and given back, so the hot path does not
 * allocate (and fault in) megabytes per frame.
 *
 * `capacity` bounds how many can be out at once: {@link acquire} returns `undefined` when all are
 * out, and the caller decides whether to wait (lossless) or drop (live). That bound is also what
 * keeps every queue between a source and the sinks finite.
 */
export class BufferPool<T extends { readonly length: number }> {
  private readonly free: T[] = [];
  private outstanding = 0;

  constructor(
    private readonly allocate: () => T,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`BufferPool capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Buffers currently handed out. */
  get inUse(): number {
    return this.outstanding;
  }

  /** A buffer and the lease that gives it back, or `undefined` when all `capacity` are out. */
  acquire(): { buffer: T; release: Lease } | undefined {
    if (this.outstanding >= this.capacity) return undefined;
    const buffer = this.free.pop() ?? this.allocate();
    this.outstanding++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.outstanding--;
      this.free.push(buffer);
      this.onRelease?.();
    };
    return { buffer, release };
  }

  /** Called after each release; a paused producer uses it to resume. */
  onRelease: (() => void) | undefined;
}
