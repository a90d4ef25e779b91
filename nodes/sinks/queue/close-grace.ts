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
