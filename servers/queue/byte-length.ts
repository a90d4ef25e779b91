/**
 * What a message costs in memory and on the wire: bytes, never UTF-16 code units. A string of
 * emoji or accented class names is twice or more its `.length` once encoded.
 */
export function byteLengthOf(message: string | Uint8Array): number {
  return typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.byteLength;
}
