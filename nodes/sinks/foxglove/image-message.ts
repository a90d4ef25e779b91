/**
 * `/<stream>/image`: the rendered overlay as a `foxglove.CompressedImage`, JSON-encoded.
 */
import type { CompressedImage } from '@foxglove/schemas';
import type { Frame, RenderedOverlay } from '../../../pipeline/frame.ts';
import { foxgloveTime } from './foxglove-time.ts';

/** A `CompressedImage` as a JSON channel carries it: bytes as base64 text. */
export type CompressedImageJson = Omit<CompressedImage, 'data'> & { readonly data: string };

/**
 * The JSON payload of a frame's rendered overlay.
 */
export function encodeImageMessage(frame: Frame, overlay: RenderedOverlay): Buffer {
  return encodeCompressedImage(frame, 'jpeg', overlay.jpeg);
}

/**
 * A `foxglove.CompressedImage` of `frame` holding `bytes` (JPEG or PNG), JSON-encoded: the live
 * overlay here, the camera image and the panoptic PNG of an MCAP recording (mcap-sink.ts).
 *
 * The message is assembled around the base64 text instead of going through `JSON.stringify`:
 * base64 needs no escaping, and skipping the scan and the UTF-8 re-encoding of a string the size
 * of the image makes this several times cheaper, which matters once per frame on the pipeline's
 * thread.
 */
export function encodeCompressedImage(frame: Frame, format: 'jpeg' | 'png', bytes: Uint8Array): Buffer {
  const rest: Omit<CompressedImageJson, 'data'> = {
    timestamp: foxgloveTime(frame.capturedAtMs),
    // The stream is the camera; Foxglove uses frame_id only for 3D transforms.
    frame_id: frame.stream,
    format,
  };
  const head = `${JSON.stringify(rest).slice(0, -1)},"data":"`;
  const tail = '"}';
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const headBytes = Buffer.byteLength(head, 'utf8');
  const message = Buffer.allocUnsafe(headBytes + base64.length + tail.length);
  message.write(head, 0, 'utf8');
  message.write(base64, headBytes, 'latin1');
  message.write(tail, headBytes + base64.length, 'latin1');
  return message;
}
