/**
 * A small PNG decoder that returns the stored samples exactly as they are in the file.
 *
 * Why not sharp: libvips expands palette PNGs to RGB on load, so the palette *indices*, which
 * are the class ids of a palette label map (Pascal VOC, Cityscapes "P" exports), are lost; it
 * also writes and reads greyscale through sRGB conversions. Metrics need the raw numbers, so
 * this module inflates the IDAT stream with node:zlib and undoes the scanline filters itself.
 *
 * Supports every non-interlaced PNG: greyscale (1/2/4/8/16 bits), palette (1/2/4/8), RGB,
 * grey+alpha and RGBA (8/16). Adam7-interlaced files are rejected with the fix.
 */
import { inflate } from 'node:zlib';
import { promisify } from 'node:util';

const inflateAsync = promisify(inflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG colour types (the IHDR field). */
export const PngColorType = { grey: 0, rgb: 2, palette: 3, greyAlpha: 4, rgba: 6 } as const;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const COLOR_TYPE_NAMES: Record<number, string> = { 0: 'greyscale', 2: 'RGB', 3: 'palette', 4: 'grey+alpha', 6: 'RGBA' };

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly colorType: number;
  readonly bitDepth: number;
  /** Samples per pixel: 1 grey or palette index, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: number;
  /**
   * `width * height * channels` samples, row-major and interleaved: palette indices (not
   * colours) for palette files, values 0..2^bitDepth-1. 16-bit files give a Uint16Array.
   */
  readonly samples: Uint8Array | Uint16Array;
}

export function colorTypeName(colorType: number): string {
  return COLOR_TYPE_NAMES[colorType] ?? `colour type ${colorType}`;
}

/** Decodes a PNG file's bytes; `file` only names the file in error messages. */
export async function decodePng(bytes: Uint8Array, file: string): Promise<DecodedPng> {
  if (bytes.length < 8 || !SIGNATURE.equals(Buffer.from(bytes.buffer, bytes.byteOffset, 8))) {
    throw new Error(`${file}: not a PNG file (bad signature)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7]);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (data.length !== length) throw new Error(`${file}: truncated PNG (chunk ${type} runs past the end of the file)`);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      bitDepth = data[8];
      colorType = data[9];
      if (data[12] !== 0) {
        throw new Error(
          `${file}: Adam7-interlaced PNGs are not supported; re-save it without interlacing ` +
            `(e.g. \`convert in.png -interlace none out.png\`, or PIL's default save)`,
        );
      }
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length; // length, type, data, CRC
  }
  const channels = CHANNELS[colorType];
  if (!width || !height || channels === undefined) throw new Error(`${file}: PNG without a valid IHDR header`);
  if (idat.length === 0) throw new Error(`${file}: PNG without image data (no IDAT chunk)`);

  const bitsPerPixel = channels * bitDepth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  // The filters look back one whole pixel, or one byte for sub-byte depths.
  const filterStep = Math.max(1, bitsPerPixel >> 3);
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    // One output chunk of the known size: the default 16 KiB chunks cost a callback and a copy each.
    raw = await inflateAsync(Buffer.concat(idat), { chunkSize: Math.max(64 * 1024, expected) });
  } catch (err) {
    throw new Error(`${file}: corrupt PNG image data: ${(err as Error).message}`);
  }
  if (raw.length < expected) {
    throw new Error(`${file}: truncated PNG image data (${raw.length} of ${expected} bytes)`);
  }
  const rows = unfilter(raw, height, stride, filterStep, file);
  return { width, height, colorType, bitDepth, channels, samples: toSamples(rows, width, height, channels, bitDepth, stride) };
}

/** Undoes the per-scanline filters (PNG spec §9) into a new `height * stride` array. */
function unfilter(raw: Uint8Array, height: number, stride: number, step: number, file: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride; // only read when y > 0
    const filter = raw[src - 1];
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), row);
        break;
      case 1:
        for (let i = 0; i < stride; i++) out[row + i] = raw[src + i] + (i >= step ? out[row + i - step] : 0);
        break;
      case 2:
        if (y === 0) out.set(raw.subarray(src, src + stride), row);
        else for (let i = 0; i < stride; i++) out[row + i] = raw[src + i] + out[up + i];
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= step ? out[row + i - step] : 0;
          const above = y > 0 ? out[up + i] : 0;
          out[row + i] = raw[src + i] + ((left + above) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= step ? out[row + i - step] : 0;
          const b = y > 0 ? out[up + i] : 0;
          const c = i >= step && y > 0 ? out[up + i - step] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          out[row + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new Error(`${file}: corrupt PNG (unknown filter type ${filter} on row ${y})`);
    }
  }
  return out;
}

/** Unpacks rows of packed bytes into one sample per element. */
function toSamples(
  rows: Uint8Array,
  width: number,
  height: number,
  channels: number,
  bitDepth: number,
  stride: number,
): Uint8Array | Uint16Array {
  const perRow = width * channels;
  // 8-bit rows are exactly one byte per sample already.
  if (bitDepth === 8) return rows;
  if (bitDepth === 16) {
    // PNG stores 16-bit samples big-endian.
    const samples = new Uint16Array(perRow * height);
    for (let i = 0, j = 0; i < samples.length; i++, j += 2) samples[i] = (rows[j] << 8) | rows[j + 1];
    return samples;
  }
  // 1, 2 or 4 bits: several samples per byte, most significant first; rows start on a byte.
  const samples = new Uint8Array(perRow * height);
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const first = y * perRow;
    for (let x = 0; x < perRow; x++) {
      const byte = rows[row + Math.floor(x / perByte)];
      const shift = 8 - bitDepth * ((x % perByte) + 1);
      samples[first + x] = (byte >> shift) & mask;
    }
  }
  return samples;
}
