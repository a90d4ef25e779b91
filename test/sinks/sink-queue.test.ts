/**
 * The sinks' shared queue against a consumer the test controls: what it hands over, in which
 * order, what it drops and counts, when it cuts or holds the producer, and how it handles a
 * consumer that fails. Time (stalls, the close grace period) runs on vitest's fake clock.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { byteLengthOf } from '../../servers/queue/byte-length.ts';
import { CLOSE_GRACE_MS, closeWithGrace } from '../../servers/queue/close-grace.ts';
import { SinkQueue, type CutCause, type OverflowPolicy, type Taken } from '../../servers/queue/sink-queue.ts';

/** A consumer that takes nothing until told to: each handed message waits for `take`. */
class HeldConsumer {
  readonly handed: string[] = [];
  private readonly waiting: Taken[] = [];

  readonly transmit = (message: string, taken: Taken) => {
    this.handed.push(message);
    this.waiting.push(taken);
  };

  /** Takes the oldest `count` messages handed over (or fails them with `error`). */
  take(count = Infinity, error?: Error): void {
    for (let i = 0; i < count && this.waiting.length > 0; i++) this.waiting.shift()!(error);
  }

  get holding(): number {
    return this.waiting.length;
  }
}

function queueFor(consumer: HeldConsumer, options: { inFlightBytes?: number; maxQueuedBytes?: number; overflow?: OverflowPolicy } = {}) {
  const drops: string[] = [];
  const cuts: { reason: string; cause: CutCause }[] = [];
  const queue = new SinkQueue<string>({
    transmit: consumer.transmit,
    byteLength: byteLengthOf,
    inFlightBytes: options.inFlightBytes ?? 10,
    maxQueuedBytes: options.maxQueuedBytes ?? 100,
    overflow: options.overflow ?? 'cut',
    onDrop: (key) => drops.push(key),
    onCut: (reason, cause) => cuts.push({ reason, cause }),
  });
  return { queue, drops, cuts };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sink queue', () => {
  it('hands over at most inFlightBytes, then sends lossless messages first, in order, and the newest frame per key', () => {
    const consumer = new HeldConsumer();
    const { queue, drops } = queueFor(consumer, { inFlightBytes: 10 });
    queue.push('event-1...'); // 10 bytes: the consumer's budget is full
    queue.offerLatest('video:a', 'frame a1');
    queue.offerLatest('video:a', 'frame a2');
    queue.offerLatest('video:b', 'frame b1');
    queue.push('event-2');
    queue.offerLatest('video:a', 'frame a3');
    expect(consumer.handed).toEqual(['event-1...']);
    expect(drops).toEqual(['video:a', 'video:a']);
    expect(queue.backlog).toMatchObject({ inFlightBytes: 10, dropped: 2, losslessBytes: 7, queuedBytes: 7 + 8 + 8 });

    for (let i = 0; i < 4; i++) consumer.take(1);
    // Frames keep the place of their key's first offer: a, then b.
    expect(consumer.handed).toEqual(['event-1...', 'event-2', 'frame a3', 'frame b1']);
    consumer.take();
    expect(queue.backlog).toMatchObject({ queuedBytes: 0, inFlightBytes: 0, dropped: 2 });
    expect(queue.pendingMessages).toBe(0);
  });

  it('counts bytes, not UTF-16 code units, against its bounds', () => {
    const consumer = new HeldConsumer();
    const { queue, cuts } = queueFor(consumer, { inFlightBytes: 1, maxQueuedBytes: 150 });
    queue.push('x');
    // 100 code units, 200 bytes in UTF-8: over a 150-byte bound.
    const accented = 'é'.repeat(100);
    expect(accented.length).toBe(100);
    expect(byteLengthOf(accented)).toBe(200);
    queue.push(accented);
    expect(cuts).toEqual([{ reason: 'too slow: more than 150 bytes waiting', cause: 'overflow' }]);
  });

  it('cut policy: past maxQueuedBytes of lossless messages the consumer is cut and what waited is freed', () => {
    const consumer = new HeldConsumer();
    const { queue, cuts } = queueFor(consumer, { inFlightBytes: 5, maxQueuedBytes: 20 });
    queue.push('12345'); // handed over
    queue.offerLatest('video', 'a frame far bigger than the lossless bound'); // frames do not count against it
    for (let i = 0; i < 4; i++) queue.push('abcde'); // 20 bytes waiting: at the bound, not past it
    expect(cuts).toEqual([]);
    queue.push('f');
    expect(cuts).toEqual([{ reason: 'too slow: more than 20 bytes waiting', cause: 'overflow' }]);
    expect(queue.isClosed).toBe(true);
    expect(queue.backlog.queuedBytes).toBe(0);
    // Nothing is taken any more: the owner closed the consumer and knows why.
    expect(queue.push('late')).toBe(false);
    consumer.take();
    expect(consumer.handed).toEqual(['12345']);
  });

  it('backpressure policy: keeps every message past its bound and holds the producer until it is back under', async () => {
    const consumer = new HeldConsumer();
    const { queue, cuts } = queueFor(consumer, { inFlightBytes: 3, maxQueuedBytes: 8, overflow: 'backpressure' });
    const lines = Array.from({ length: 6 }, (_, i) => `L${i}\n`); // 3 bytes each
    for (const line of lines.slice(0, 4)) queue.push(line);
    // One line handed over (the consumer's 3 bytes), 9 bytes waiting: past the bound, all kept.
    expect(queue.backlog).toMatchObject({ inFlightBytes: 3, losslessBytes: 9 });
    const held = queue.backpressure();
    expect(held).toBeInstanceOf(Promise);
    let released = false;
    void held!.then(() => (released = true));
    for (const line of lines.slice(4)) queue.push(line);
    expect(queue.backlog.losslessBytes).toBe(15);
    consumer.take(1);
    consumer.take(1);
    await Promise.resolve();
    expect(released).toBe(false);

    consumer.take(1);
    await Promise.resolve();
    // 3 taken, 1 handed over, 6 bytes waiting: under the bound again.
    expect(queue.backlog.losslessBytes).toBe(6);
    expect(released).toBe(true);
    expect(queue.backpressure()).toBeUndefined();

    const drained = queue.drained();
    while (consumer.holding > 0) consumer.take(1);
    await drained;
    expect(consumer.handed).toEqual(lines);
    expect(cuts).toEqual([]);
  });

  it('counts an error from the consumer, cuts the queue with it and releases a held producer', async () => {
    const consumer = new HeldConsumer();
    const { queue, cuts } = queueFor(consumer, { inFlightBytes: 2, maxQueuedBytes: 2, overflow: 'backpressure' });
    queue.push('ab');
    queue.push('cdef');
    const held = queue.backpressure();
    consumer.take(1, new Error('EPIPE: broken pipe'));
    await held;
    expect(cuts).toEqual([{ reason: 'cannot send: EPIPE: broken pipe', cause: 'error' }]);
    expect(queue.backlog).toMatchObject({ errors: 1, queuedBytes: 0, inFlightBytes: 0 });
    await queue.drained();
  });

  it('counts one failure once, however many messages in flight report it', () => {
    const consumer = new HeldConsumer();
    const { queue, cuts } = queueFor(consumer, { inFlightBytes: 30 });
    for (const message of ['ab', 'cd', 'ef', 'gh']) queue.push(message);
    expect(consumer.holding).toBe(4);
    // A file stream that failed reports the error to every write it was still holding.
    consumer.take(Infinity, new Error('EPIPE: broken pipe'));
    expect(queue.backlog.errors).toBe(1);
    expect(cuts).toHaveLength(1);
  });

  it('turns a consumer that throws into a counted error, never an exception for the sink', () => {
    const cuts: string[] = [];
    const queue = new SinkQueue<string>({
      transmit: () => {
        throw new Error('WebSocket is not open');
      },
      byteLength: byteLengthOf,
      inFlightBytes: 10,
      maxQueuedBytes: 10,
      overflow: 'cut',
      onCut: (reason) => cuts.push(reason),
    });
    expect(() => queue.push('hello')).not.toThrow();
    expect(cuts).toEqual(['cannot send: WebSocket is not open']);
    expect(queue.backlog.errors).toBe(1);
  });

  it('waits while the consumer cannot take anything, and sends once pumped', () => {
    const consumer = new HeldConsumer();
    let open = false;
    const queue = new SinkQueue<string>({
      transmit: consumer.transmit,
      byteLength: byteLengthOf,
      inFlightBytes: 10,
      maxQueuedBytes: 10,
      overflow: 'cut',
      canTransmit: () => open,
    });
    queue.push('hello');
    expect(consumer.handed).toEqual([]);
    open = true;
    queue.pump();
    expect(consumer.handed).toEqual(['hello']);
  });

  it('measures a stall only while data waits, from when it started waiting', () => {
    vi.useFakeTimers();
    const consumer = new HeldConsumer();
    const { queue } = queueFor(consumer);
    vi.advanceTimersByTime(60_000);
    // Idle for a minute with nothing to send is not a stall.
    expect(queue.stalledMs()).toBe(0);
    queue.push('event');
    vi.advanceTimersByTime(300);
    expect(queue.stalledMs()).toBe(300);
    consumer.take();
    expect(queue.stalledMs()).toBe(0);
    queue.push('next');
    vi.advanceTimersByTime(100);
    expect(queue.stalledMs()).toBe(100);
  });

  it('refuses limits that are not positive', () => {
    expect(() => queueFor(new HeldConsumer(), { inFlightBytes: 0 })).toThrow(/positive byte limits/);
  });
});

describe('close grace period', () => {
  /** A socket that never completes the closing handshake (a client that reads nothing). */
  class DeafSocket extends EventEmitter {
    readyState: number = WebSocket.OPEN;
    readonly closed: { code: number; reason: string }[] = [];
    terminated = false;
    close(code: number, reason: string): void {
      this.closed.push({ code, reason });
      this.readyState = WebSocket.CLOSING;
    }
    terminate(): void {
      this.terminated = true;
      this.readyState = WebSocket.CLOSED;
      this.emit('close');
    }
  }

  it('asks a client to close, and cuts it off after CLOSE_GRACE_MS if it does not', async () => {
    vi.useFakeTimers();
    const socket = new DeafSocket();
    const closing = closeWithGrace(socket as unknown as WebSocket, 1001, 'server shutting down');
    expect(socket.closed).toEqual([{ code: 1001, reason: 'server shutting down' }]);
    vi.advanceTimersByTime(CLOSE_GRACE_MS - 1);
    expect(socket.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(socket.terminated).toBe(true);
    await closing;
  });

  it('does not cut off a client that closes in time', async () => {
    vi.useFakeTimers();
    const socket = new DeafSocket();
    const closing = closeWithGrace(socket as unknown as WebSocket, 4008, 'too slow');
    socket.readyState = WebSocket.CLOSED;
    socket.emit('close');
    await closing;
    vi.advanceTimersByTime(CLOSE_GRACE_MS);
    expect(socket.terminated).toBe(false);
  });
});
