/**
 * Hand-built maps for the segmentation metric tests: drawn as text, one character per pixel,
 * written as real PNG files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { idsToRgb } from '../../../lib/formats/coco-panoptic-ids.ts';

export interface Grid {
  readonly width: number;
  readonly height: number;
  readonly values: Uint32Array;
}

/** Rows of characters to values through `legend`; every row must be as long as the first. */
export function grid(rows: readonly string[], legend: Readonly<Record<string, number>>): Grid {
  const width = rows[0].length;
  const values = new Uint32Array(width * rows.length);
  rows.forEach((row, y) => {
    if (row.length !== width) throw new Error(`row ${y} has ${row.length} characters, expected ${width}`);
    [...row].forEach((char, x) => {
      const value = legend[char];
      if (value === undefined) throw new Error(`no legend entry for "${char}"`);
      values[y * width + x] = value;
    });
  });
  return { width, height: rows.length, values };
}

/** A fresh temporary folder, and a function that removes it. */
export async function tempFolder(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'panoptes-eval-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function ensureFolder(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
}

/** An 8-bit greyscale label map, encoded by sharp. */
export async function writeGreyPng(file: string, map: Grid): Promise<void> {
  await ensureFolder(file);
  await sharp(Buffer.from(Uint8Array.from(map.values)), { raw: { width: map.width, height: map.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

/** A COCO panoptic PNG (id = R + 256·G + 256²·B), encoded by sharp. */
export async function writePanopticPng(file: string, map: Grid): Promise<void> {
  await ensureFolder(file);
  const rgb = new Uint8Array(map.values.length * 3);
  idsToRgb(map.values, rgb);
  await sharp(Buffer.from(rgb), { raw: { width: map.width, height: map.height, channels: 3 } }).png().toFile(file);
}

/**
 * A PNG encoded by hand, for layouts sharp does not write (palette indices, 16-bit grey, sub-byte
 * depths) and to exercise every scanline filter: row y uses filter `filters[y % filters.length]`.
 */
export function encodePng(options: {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;
  filters?: readonly (0 | 1 | 2 | 3 | 4)[];
}): Buffer {
  const { width, height, colorType, bitDepth, samples } = options;
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const perRow = width * channels;
  const stride = Math.ceil((perRow * bitDepth) / 8);
  const step = Math.max(1, (channels * bitDepth) >> 3);
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const value = samples[y * perRow + x];
      if (bitDepth === 16) {
        rows[y * stride + 2 * x] = value >> 8;
        rows[y * stride + 2 * x + 1] = value & 0xff;
      } else {
        const bit = x * bitDepth;
        rows[y * stride + (bit >> 3)] |= value << (8 - bitDepth - (bit & 7));
      }
    }
  }
  const filters = options.filters ?? [0];
  const filtered = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = filters[y % filters.length];
    filtered[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const x = rows[y * stride + i];
      const a = i >= step ? rows[y * stride + i - step] : 0;
      const b = y > 0 ? rows[(y - 1) * stride + i] : 0;
      const c = i >= step && y > 0 ? rows[(y - 1) * stride + i - step] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      filtered[y * (stride + 1) + 1 + i] = (x - predictor) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (colorType === 3) {
    // Any palette will do: readers of label maps must ignore the colours.
    const palette = Buffer.alloc(3 * (1 << Math.min(bitDepth, 8)));
    for (let i = 0; i < palette.length; i++) palette[i] = (i * 37) & 0xff;
    parts.push(chunk('PLTE', palette));
  }
  parts.push(chunk('IDAT', deflateSync(filtered)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

export async function writeBytes(file: string, bytes: Uint8Array): Promise<void> {
  await ensureFolder(file);
  await writeFile(file, bytes);
}

/** A segments_info entry. */
export function segment(id: number, categoryId: number, area: number, iscrowd: 0 | 1 = 0) {
  return { id, category_id: categoryId, iscrowd, area };
}

/** Pixels of `value` in a grid: the `area` a ground-truth JSON must state. */
export const areaOf = (map: Grid, value: number): number => map.values.reduce((n, v) => n + (v === value ? 1 : 0), 0);

export async function writeJson(file: string, value: unknown): Promise<void> {
  await ensureFolder(file);
  await writeFile(file, JSON.stringify(value, null, 1));
}
