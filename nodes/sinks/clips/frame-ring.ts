/** One already-encoded picture of a stream with its presentation time. */
export interface TimedJpeg {
  readonly jpeg: Buffer;
  readonly ptsMs: number;
}

/**
 * The last `spanMs` of a stream's encoded pictures, for a clip to start before its event: the
 * frames from `spanMs` before the newest one, and the one frame before those, so that what it
 * holds always reaches back at least `spanMs` once the stream is that old. Bounded by time and by
 * `maxBytes` (a stream of huge pictures keeps less than `spanMs` rather than growing). The
 * buffers are kept as they are, not copied: the overlay encodes a new one every frame.
 */
export class FrameRing {
  private frames: TimedJpeg[] = [];
  private bytes = 0;

  constructor(
    private readonly spanMs: number,
    private readonly maxBytes: number,
  ) {}

  push(frame: TimedJpeg): void {
    const last = this.frames[this.frames.length - 1];
    if (last && frame.ptsMs <= last.ptsMs) return; // a repeated or older time cannot be placed in a clip
    this.frames.push(frame);
    this.bytes += frame.jpeg.length;
    const from = frame.ptsMs - this.spanMs;
    let drop = 0;
    // Keep the newest frame at or before `from`: the ring then covers the whole span.
    while (drop + 1 < this.frames.length && this.frames[drop + 1]!.ptsMs <= from) drop++;
    for (let i = 0; i < drop; i++) this.bytes -= this.frames[i]!.jpeg.length;
    while (drop + 1 < this.frames.length && this.bytes > this.maxBytes) this.bytes -= this.frames[drop++]!.jpeg.length;
    if (drop > 0) this.frames = this.frames.slice(drop);
  }

  /** The frames held, oldest first. */
  contents(): readonly TimedJpeg[] {
    return this.frames;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
