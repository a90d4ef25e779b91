/**
 * Noise that no demuxer takes for a video: seeded, so the test does not depend on the draw
 * (truly random bytes now and then probe as an audio format).
 */
export function noise(length: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}
