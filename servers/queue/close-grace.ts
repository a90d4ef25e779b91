import { WebSocket } from 'ws';

/**
 * How long every sink gives a consumer asked to close before it is cut off: a client that reads
 * nothing never completes the closing handshake, and shutting down must not wait on it.
 */
export const CLOSE_GRACE_MS = 1000;

/**
 * Asks `socket` to close with `code` and `reason`, and terminates it if it has not closed after
 * {@link CLOSE_GRACE_MS}. Resolves once it is closed, whichever way.
 */
export function closeWithGrace(socket: WebSocket, code: number, reason: string): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === WebSocket.OPEN) socket.close(code, reason);
  });
}

/**
 * How long a sink that hands messages to a broker (NATS, MQTT) waits at close for the last ones
 * to be acknowledged: a network round trip, and perhaps a reconnect, more than a socket's close.
 */
export const BROKER_CLOSE_GRACE_MS = 3 * CLOSE_GRACE_MS;

/** Resolves once `queue` has handed everything over, or after `graceMs`, whichever comes first. */
export async function drainedWithin(queue: { drained(): Promise<void> }, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([queue.drained(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
}
