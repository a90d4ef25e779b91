/**
 * Tracker time per frame with 50 and 200 objects: people-sized boxes walking in straight lines
 * with jitter, 5% of detections missing, over 300 frames. Prints one line per size and, with
 * --json, one JSON object.
 */
import { ByteTracker, DEFAULT_TRACKER_OPTIONS, type Detection } from '../nodes/tracking/byte-tracker.ts';

function scene(objects: number, frames: number, seed = 1): Detection[][] {
  let state = seed;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const walkers = Array.from({ length: objects }, () => ({
    x: next() * 1800,
    y: next() * 1000,
    vx: (next() - 0.5) * 6,
    vy: (next() - 0.5) * 3,
  }));
  return Array.from({ length: frames }, () =>
    walkers.flatMap((w) => {
      w.x += w.vx;
      w.y += w.vy;
      if (next() < 0.05) return [];
      const x = w.x + (next() - 0.5) * 2;
      const y = w.y + (next() - 0.5) * 2;
      return [{ box: [x, y, x + 40, y + 100] as const, score: 0.5 + 0.5 * next(), classId: 0 }];
    }),
  );
}

export function benchTracker(objects: number, frames = 300): { objects: number; msPerFrame: number; tracks: number } {
  const input = scene(objects, frames);
  const tracker = new ByteTracker(DEFAULT_TRACKER_OPTIONS);
  for (let f = 0; f < 20; f++) tracker.update(input[f]!, f * 40); // warm up the JIT
  const started = performance.now();
  for (let f = 20; f < frames; f++) tracker.update(input[f]!, f * 40);
  return { objects, msPerFrame: (performance.now() - started) / (frames - 20), tracks: tracker.size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [50, 200].map((n) => benchTracker(n));
  if (process.argv.includes('--json')) console.log(JSON.stringify({ tracker: results }));
  else for (const r of results) console.log(`tracker: ${r.objects} objects, ${r.msPerFrame.toFixed(2)} ms per frame (${r.tracks} tracks alive)`);
}
