import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { dataDir } from './data-dir.ts';

/** Frame `index` of a clip under replay/videos, decoded by the real ffmpeg to RGB24. */
export function decodeFrame(clip: string, index: number, width: number, height: number): RgbImage {
  const data = execFileSync(
    ffmpegPath().path,
    ['-v', 'error', '-i', path.join(dataDir(), 'replay/videos', clip), '-vf', `select=eq(n\\,${index})`,
     '-vframes', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: width * height * 3 + 1024 },
  );
  if (data.length !== width * height * 3) throw new Error(`expected ${width}x${height} RGB, got ${data.length} bytes`);
  return { width, height, data: new Uint8Array(data) };
}
