/**
 * A tiny ONNX model written byte by byte (protobuf by hand), for testing what no model in the
 * data directory has: a dynamic batch dimension. It is `ReduceMean(images, axes=[3],
 * keepdims=0)`: images `[batch, 3, H, W]` float → output0 `[batch, 3, H]`, each row the mean of
 * an image row, so every slice's output shows which pixels it saw.
 */

function varint(n: number): number[] {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return bytes;
}

/** Field `field` of wire type 0 (varint). */
const int = (field: number, value: number) => [...varint(field << 3), ...varint(value)];
/** Field `field` of wire type 2 (bytes, string or nested message). */
const bytes = (field: number, content: number[]) => [...varint((field << 3) | 2), ...varint(content.length), ...content];
const text = (field: number, value: string) => bytes(field, [...Buffer.from(value, 'utf8')]);

/** A float tensor type with named (`string`) or fixed (`number`) dimensions. */
function tensorType(dims: readonly (number | string)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : text(2, d)));
  return bytes(1, [...int(1, 1), ...bytes(2, shape)]);
}
const valueInfo = (name: string, dims: readonly (number | string)[]) => [...text(1, name), ...bytes(2, tensorType(dims))];

export function rowMeanModel(height: number, width: number): Uint8Array {
  const attribute = (name: string, proto: number[]) => [...text(1, name), ...proto];
  const node = [
    ...text(1, 'images'),
    ...text(2, 'output0'),
    ...text(4, 'ReduceMean'),
    // AttributeProto: name, ints (8) with type INTS (20 = 7), and keepdims int (3) with type INT (20 = 2).
    ...bytes(5, attribute('axes', [...int(8, 3), ...int(20, 7)])),
    ...bytes(5, attribute('keepdims', [...int(3, 0), ...int(20, 2)])),
  ];
  const graph = [
    ...bytes(1, node),
    ...text(2, 'row-mean'),
    ...bytes(11, valueInfo('images', ['batch', 3, height, width])),
    ...bytes(12, valueInfo('output0', ['batch', 3, height])),
  ];
  return Uint8Array.from([...int(1, 7), ...bytes(8, int(2, 13)), ...bytes(7, graph)]);
}
