/**
 * A 3x3 box blur, in place, edges clamped: separable (rows, then columns), no allocation.
 *
 * Why for the colour planes: video codecs keep colour at half resolution and the noise in it is
 * coarse, so the colour of textured ground (asphalt grain) differs from its own neighbour by as
 * much as a car differs from the road. The background model follows a drifting camera by whole
 * pixels; the moment it steps, a half-pixel misalignment against that texture lit up a tenth of
 * the road at once. Blurred, the grain's colour is a ninth as strong, while a car of 4 grey
 * pixels or more keeps most of its colour.
 */
export function boxBlur3(plane: Float32Array, width: number, height: number, scratch: Float32Array): void {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const left = plane[row + (x > 0 ? x - 1 : x)]!;
      const right = plane[row + (x < width - 1 ? x + 1 : x)]!;
      scratch[row + x] = (left + plane[row + x]! + right) / 3;
    }
  }
  for (let y = 0; y < height; y++) {
    const above = (y > 0 ? y - 1 : y) * width;
    const row = y * width;
    const below = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) plane[row + x] = (scratch[above + x]! + scratch[row + x]! + scratch[below + x]!) / 3;
  }
}
