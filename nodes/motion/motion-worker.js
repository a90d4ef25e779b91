// @ts-check
/**
 * The thread a stream's motion segmenter lives on: grey downscale, camera motion, background and blobs
 * cost milliseconds a frame that the main thread spends on decoding, sockets and encoding
 * instead. Frames come in shared memory, so the thread reads them where they are.
 *
 * Plain JavaScript because workers do not inherit the TypeScript loader the CLI and the tests
 * run under; it registers that loader itself (as inference-worker.js does). Messages are typed
 * in motion-protocol.ts; keep the two in step.
 */
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

if (!parentPort) throw new Error('motion-worker.js must run as a worker thread');
const port = parentPort;

register();

/** @type {typeof import('./motion-segmenter.ts')} */
const { MotionSegmenter } = await import('./motion-segmenter.ts');

/** @type {import('./motion-segmenter.ts').MotionSegmenter | undefined} */
let segmenter;

port.on('message', (/** @type {import('./motion-protocol.ts').MotionRequest} */ request) => {
  if (request.type === 'configure') {
    segmenter = new MotionSegmenter(request.options);
    port.postMessage({ type: 'ready' });
  }
  else if (request.type === 'close') port.close();
  else if (request.type === 'frame') {
    try {
      if (!segmenter) throw new Error('motion worker: not configured');
      const result = segmenter.process({ width: request.width, height: request.height, data: request.data }, request.ptsMs);
      // The masks are this thread's own: hand them over instead of copying.
      const transfer = result.blobs.map((blob) => /** @type {ArrayBuffer} */ (blob.mask.data.buffer));
      port.postMessage({ type: 'result', id: request.id, result }, transfer);
    } catch (err) {
      port.postMessage({ type: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
});
