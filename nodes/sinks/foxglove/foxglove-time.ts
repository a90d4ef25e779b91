/**
 * Timestamps of Foxglove messages.
 *
 * Every message of a frame (its image, annotations and counts) carries the frame's
 * `capturedAtMs`: the wall-clock time the source emitted it. Wall time rather than the stream's
 * own `ptsMs` because Foxglove shows a live connection on a wall-clock timeline, and because the
 * Image panel pairs annotations with the image that has exactly the same timestamp, so all
 * three must agree. The frame's `ptsMs` and `seq` travel in the counts message.
 */
import type { Time } from '@foxglove/schemas';

/** `{ sec, nsec }` of a time in milliseconds since the Unix epoch. */
export function foxgloveTime(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  // Rounding a fraction of a millisecond can reach a whole second: carry it.
  const nsec = Math.round((ms - sec * 1000) * 1e6);
  return nsec >= 1e9 ? { sec: sec + 1, nsec: nsec - 1e9 } : { sec, nsec };
}

/** The same time in nanoseconds, as the binary `messageData` header carries it. */
export function toNanoseconds(time: Time): bigint {
  return BigInt(time.sec) * 1_000_000_000n + BigInt(time.nsec);
}
