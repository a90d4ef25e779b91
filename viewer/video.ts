/**
 * A stream's `video` frames: the newest JPEG decoded off the main thread, newest wins, and a
 * picture painted at its own size (CSS scales it to fit, object-fit: contain). Labels, trails,
 * lines and zones are already in the picture: the pipeline draws them.
 */
import type { VideoHeader } from '../servers/viewer-protocol/protocol.ts';
import type { StreamView } from './stream-state.ts';

/**
 * Decodes the stream's waiting frame, then the one that arrived meanwhile, if any, until none
 * waits; `show` gets each picture.
 */
export async function decodeNewest(stream: StreamView, show: (bitmap: ImageBitmap, header: VideoHeader) => void): Promise<void> {
  stream.decoding = true;
  while (stream.pending) {
    const { header, jpeg } = stream.pending;
    stream.pending = null;
    try {
      const bitmap = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
      show(bitmap, header);
    } catch (error) {
      console.warn(`viewer: frame ${header.seq} of ${header.stream} did not decode`, error);
    }
  }
  stream.decoding = false;
}

/** Paints `bitmap` on `canvas`, which takes the picture's size. */
export function paint(canvas: HTMLCanvasElement, bitmap: ImageBitmap): void {
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
}
