import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import type { Lease } from '../../pipeline/frame.ts';
import { RawFrameReader, type PoolFullPolicy, type RawFrameReaderOptions } from '../../nodes/sources/raw-frame-reader.ts';

/** A 3x2 rgb24 frame: small enough to see, odd enough that chunk sizes never line up with it. */
const FRAME_BYTES = 3 * 2 * 3;

/** `frames` frames of bytes that differ from frame to frame (251 is prime, so no period of 18). */
function syntheticStream(frames: number, extraBytes = 0): Uint8Array {
  const bytes = new Uint8Array(frames * FRAME_BYTES + extraBytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  return bytes;
}

function expectedFrame(stream: Uint8Array, index: number): Uint8Array {
  return stream.subarray(index * FRAME_BYTES, (index + 1) * FRAME_BYTES);
}

function* chunksOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

interface Received {
  readonly index: number;
  /** A copy, taken on arrival: the pooled buffer is reused once released. */
  readonly bytes: Uint8Array;
  readonly buffer: Uint8Array;
  readonly release: Lease;
}

/** A reader over a counting pool, recording everything it reports. */
function harness(capacity: number, whenPoolFull: PoolFullPolicy, extra: Partial<RawFrameReaderOptions> = {}) {
  let allocations = 0;
  const pool = new BufferPool(() => {
    allocations++;
    return new Uint8Array(FRAME_BYTES);
  }, capacity);
  const frames: Received[] = [];
  const drops: number[] = [];
  const events: string[] = [];
  let trailingBytes: number | undefined;
  const reader = new RawFrameReader({
    frameBytes: FRAME_BYTES,
    pool,
    whenPoolFull,
    onFrame: (buffer, release, index) => frames.push({ index, bytes: buffer.slice(0, FRAME_BYTES), buffer, release }),
    onDrop: (index) => drops.push(index),
    pauseProducer: () => events.push('pause'),
    resumeProducer: () => events.push('resume'),
    onEnd: (trailing) => {
      trailingBytes = trailing;
      events.push('end');
    },
    ...extra,
  });
  return {
    pool,
    reader,
    frames,
    drops,
    events,
    allocations: () => allocations,
    trailingBytes: () => trailingBytes,
  };
}

describe('RawFrameReader', () => {
  it.each([
    ['1 byte', 1],
    ['7 bytes', 7],
    ['a frame and one byte', FRAME_BYTES + 1],
    ['a frame less one byte', FRAME_BYTES - 1],
    ['exactly a frame', FRAME_BYTES],
    ['several frames and a bit', 3 * FRAME_BYTES + 5],
    ['the whole stream at once', 10 * FRAME_BYTES],
  ])('cuts exact frames from chunks of %s', (_name, chunkSize) => {
    const stream = syntheticStream(10);
    // The consumer gives every buffer back at once, so a pool of one is enough.
    const h = harness(1, 'pause', {
      onFrame: (buffer, release, index) => {
        h.frames.push({ index, bytes: buffer.slice(0, FRAME_BYTES), buffer, release });
        release();
      },
    });
    for (const chunk of chunksOf(stream, chunkSize)) h.reader.push(chunk);
    h.reader.end();

    expect(h.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    h.frames.forEach((frame, k) => expect(frame.bytes).toEqual(expectedFrame(stream, k)));
    expect(h.events).toEqual(['end']);
    expect(h.trailingBytes()).toBe(0);
    expect(h.reader.framesRead).toBe(10);
    // Frames land in pooled buffers: one allocation in all, none per frame or per chunk.
    expect(h.allocations()).toBe(1);
  });

  it('never emits a partial last frame, reports its size and returns its buffer', () => {
    const stream = syntheticStream(2, FRAME_BYTES / 2);
    const h = harness(4, 'pause');
    for (const chunk of chunksOf(stream, 5)) h.reader.push(chunk);
    h.reader.end();

    expect(h.frames.map((f) => f.index)).toEqual([0, 1]);
    expect(h.trailingBytes()).toBe(FRAME_BYTES / 2);
    for (const frame of h.frames) frame.release();
    expect(h.pool.inUse).toBe(0);
  });

  it('pauses the producer when the pool is empty and resumes when every held byte is read', () => {
    const stream = syntheticStream(5);
    const h = harness(2, 'pause');
    h.reader.push(stream); // all five frames in one chunk
    h.reader.end();

    expect(h.frames.map((f) => f.index)).toEqual([0, 1]);
    expect(h.events).toEqual(['pause']);
    expect(h.reader.isWaitingForBuffer).toBe(true);

    h.frames[0]!.release();
    expect(h.frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(h.events).toEqual(['pause']); // frames 3 and 4 are still held

    h.frames[1]!.release();
    h.frames[2]!.release();
    expect(h.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4]);
    // The end of stream was already known, so the end comes right after the last frame.
    expect(h.events).toEqual(['pause', 'resume', 'end']);
    h.frames.forEach((frame, k) => expect(frame.bytes).toEqual(expectedFrame(stream, k)));
    expect(h.pool.inUse).toBe(2);
  });

  it('reads chunks pushed while paused after the held ones, in order', () => {
    const stream = syntheticStream(6);
    const h = harness(1, 'pause');
    const chunks = [...chunksOf(stream, 2 * FRAME_BYTES + 3)];
    // A producer may deliver a chunk or two after being asked to pause.
    for (const chunk of chunks) h.reader.push(chunk);
    h.reader.end();
    while (h.frames.length < 6) {
      const before = h.frames.length;
      h.frames[before - 1]!.release();
      expect(h.frames.length).toBe(before + 1);
    }
    h.frames.forEach((frame, k) => expect(frame.bytes).toEqual(expectedFrame(stream, k)));
    expect(h.events).toEqual(['pause', 'resume', 'end']);
  });

  it('takes a buffer released inside onFrame without waiting (a synchronous consumer)', () => {
    const stream = syntheticStream(4);
    const received: number[] = [];
    const h = harness(1, 'pause', {
      onFrame: (_buffer, release, index) => {
        received.push(index);
        release();
      },
    });
    h.reader.push(stream);
    h.reader.end();
    expect(received).toEqual([0, 1, 2, 3]);
    expect(h.events).toEqual(['end']);
  });

  it('drops whole frames when the pool is empty, keeping frame boundaries and counting indexes', () => {
    const stream = syntheticStream(6);
    const h = harness(2, 'drop');
    for (const chunk of chunksOf(stream, 7)) {
      h.reader.push(chunk);
      // A buffer comes back in the middle of frame 3: frame 3 is still dropped (it began without
      // a buffer), and frame 4 gets the buffer.
      if (h.reader.framesRead === 3 && h.frames.length === 2 && h.pool.inUse === 2) h.frames[0]!.release();
    }
    h.reader.end();

    expect(h.frames.map((f) => f.index)).toEqual([0, 1, 4]);
    expect(h.drops).toEqual([2, 3, 5]);
    for (const frame of h.frames) expect(frame.bytes).toEqual(expectedFrame(stream, frame.index));
    expect(h.events).toEqual(['end']); // drop mode never pauses the producer
  });

  it('close() forgets held bytes, returns a half-filled buffer and goes quiet', () => {
    const stream = syntheticStream(3, 4);
    const h = harness(2, 'pause');
    h.reader.push(stream);
    expect(h.frames.length).toBe(2);
    h.reader.close();
    h.frames[0]!.release();
    h.reader.push(stream);
    h.reader.end();
    expect(h.frames.length).toBe(2);
    expect(h.events).toEqual(['pause']);
    expect(h.pool.onRelease).toBeUndefined();

    const dropping = harness(2, 'drop');
    dropping.reader.push(stream.subarray(0, FRAME_BYTES + 3)); // one frame, and a frame begun
    expect(dropping.pool.inUse).toBe(2);
    dropping.reader.close();
    expect(dropping.pool.inUse).toBe(1);
  });

  it('rejects pool buffers too small for a frame', () => {
    const pool = new BufferPool(() => new Uint8Array(FRAME_BYTES - 1), 1);
    const reader = new RawFrameReader({ frameBytes: FRAME_BYTES, pool, whenPoolFull: 'drop', onFrame: () => {} });
    expect(() => reader.push(syntheticStream(1))).toThrow(/pool buffers hold 17 bytes, a frame needs 18/);
  });
});
