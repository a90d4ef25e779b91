/**
 * The server's messages as the page reads them (docs/protocol.md): text messages are JSON
 * objects with a `type`; binary ones are `u32 BE header length | JSON header | payload`. What
 * does not parse is left out (a warning for text), never thrown.
 */
import type { BinaryHeader, ServerEvent } from '../servers/viewer-protocol/protocol.ts';

const textDecoder = new TextDecoder();

export function decodeText(text: string): ServerEvent | undefined {
  try {
    return JSON.parse(text) as ServerEvent;
  } catch {
    console.warn('viewer: a message that is not JSON', text.slice(0, 200));
    return undefined;
  }
}

/** A binary message: its header (which names a stream), and the payload after it. */
export interface BinaryMessage {
  readonly header: BinaryHeader;
  readonly payload: Uint8Array<ArrayBuffer>;
}

export function decodeBinary(buffer: ArrayBuffer): BinaryMessage | undefined {
  if (buffer.byteLength < 4) return undefined;
  const headerLength = new DataView(buffer).getUint32(0);
  if (4 + headerLength > buffer.byteLength) return undefined;
  let header: BinaryHeader;
  try {
    header = JSON.parse(textDecoder.decode(new Uint8Array(buffer, 4, headerLength))) as BinaryHeader;
  } catch {
    return undefined;
  }
  if (typeof header?.stream !== 'string') return undefined;
  return { header, payload: new Uint8Array(buffer, 4 + headerLength) };
}
