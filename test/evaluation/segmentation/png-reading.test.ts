/**
 * Reading label maps and panoptic PNGs: the numbers that come out are exactly the ones stored,
 * whatever the PNG layout and scanline filters.
 */
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelMap } from '../../../evaluation/segmentation/label-map.ts';
import { readPanopticPng } from '../../../evaluation/segmentation/panoptic-png.ts';
import { decodePng } from '../../../evaluation/segmentation/png-decode.ts';
import { encodePng, grid, tempFolder, writeBytes, writeGreyPng, writePanopticPng } from './fixtures.ts';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await tempFolder()));
afterAll(() => remove());

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

describe('PNG decoding', () => {
  it('undoes all five scanline filters, for whole-pixel and sub-byte steps', async () => {
    const width = 7;
    const height = 10;
    const filters = [0, 1, 2, 3, 4] as const;
    const rgba = noise(width * height * 4);
    const decoded = await decodePng(encodePng({ width, height, colorType: 6, bitDepth: 8, samples: rgba, filters }), 'rgba');
    expect(decoded.channels).toBe(4);
    expect([...decoded.samples]).toEqual([...rgba]);

    const twoBit = Uint8Array.from(noise(width * height, 7), (v) => v & 3);
    const packed = await decodePng(encodePng({ width, height, colorType: 3, bitDepth: 2, samples: twoBit, filters }), '2-bit');
    expect([...packed.samples]).toEqual([...twoBit]);
  });

  it('reads what sharp (libpng, adaptive filters) writes, byte for byte', async () => {
    const width = 61;
    const height = 37;
    const rgb = noise(width * height * 3, 3);
    // Smooth areas make libpng pick Sub/Up/Average/Paeth rather than None.
    for (let i = 0; i < rgb.length / 2; i++) rgb[i] = (i >> 4) & 0xff;
    const file = path.join(dir, 'sharp-rgb.png');
    await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png({ adaptiveFiltering: true }).toFile(file);
    const ours = await readPanopticPng(file);
    const theirs = await sharp(file).raw().toBuffer();
    const expected = new Uint32Array(width * height).map((_, p) => theirs[3 * p] + 256 * theirs[3 * p + 1] + 65536 * theirs[3 * p + 2]);
    expect(ours.ids).toEqual(expected);
  });

  it('rejects interlaced and non-PNG files with the fix', async () => {
    const png = encodePng({ width: 2, height: 2, colorType: 0, bitDepth: 8, samples: [0, 1, 2, 3] });
    png[8 + 8 + 12] = 1; // IHDR interlace method (its CRC is not checked)
    await expect(decodePng(png, 'x.png')).rejects.toThrow(/x\.png: Adam7-interlaced PNGs are not supported; re-save it without interlacing/);
    await expect(decodePng(Buffer.from('GIF89a...'), 'y.gif')).rejects.toThrow(/y\.gif: not a PNG file/);
  });
});

describe('label maps', () => {
  const classes = [0, 1, 2, 3, 4, 5, 6, 255];

  it('take the palette index, not the colour, from palette PNGs (4- and 8-bit)', async () => {
    const file8 = path.join(dir, 'palette8.png');
    await writeBytes(file8, encodePng({ width: 4, height: 2, colorType: 3, bitDepth: 8, samples: classes, filters: [4] }));
    expect([...(await readLabelMap(file8)).labels]).toEqual(classes);
    const file4 = path.join(dir, 'palette4.png');
    await writeBytes(file4, encodePng({ width: 3, height: 2, colorType: 3, bitDepth: 4, samples: [0, 15, 7, 1, 2, 3] }));
    expect([...(await readLabelMap(file4)).labels]).toEqual([0, 15, 7, 1, 2, 3]);
  });

  it('read 8-bit greyscale as sharp writes it, and 16-bit greyscale', async () => {
    const grey = path.join(dir, 'grey.png');
    await writeGreyPng(grey, grid(['01234', '56789'], Object.fromEntries([...'0123456789'].map((c) => [c, Number(c) * 20]))));
    const map = await readLabelMap(grey);
    expect(map).toMatchObject({ width: 5, height: 2 });
    expect([...map.labels]).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);

    const deep = path.join(dir, 'grey16.png');
    await writeBytes(deep, encodePng({ width: 3, height: 1, colorType: 0, bitDepth: 16, samples: [0, 300, 65535], filters: [1] }));
    const map16 = await readLabelMap(deep);
    expect(map16.labels).toBeInstanceOf(Uint16Array);
    expect([...map16.labels]).toEqual([0, 300, 65535]);
  });

  it('accept RGB whose channels are equal, and refuse a colour-coded map', async () => {
    const greyRgb = path.join(dir, 'grey-rgb.png');
    await writeBytes(greyRgb, encodePng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [3, 3, 3, 255, 255, 255] }));
    expect([...(await readLabelMap(greyRgb)).labels]).toEqual([3, 255]);
    const colour = path.join(dir, 'colour.png');
    await writeBytes(colour, encodePng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [3, 3, 3, 128, 64, 128] }));
    await expect(readLabelMap(colour)).rejects.toThrow(
      /colour\.png: a label map must hold class indices .* \(R, G, B\) = \(128, 64, 128\) at x=1, y=0; convert colour-coded maps/,
    );
  });
});

describe('panoptic PNGs', () => {
  it('decode id = R + 256·G + 256²·B, up to 2^24 − 1', async () => {
    const file = path.join(dir, 'panoptic.png');
    const ids = grid(['abc', 'd.e'], { a: 1, b: 256 + 2, c: 65536 * 3 + 4, d: 2 ** 24 - 1, e: 7, '.': 0 });
    await writePanopticPng(file, ids);
    const map = await readPanopticPng(file);
    expect(map).toMatchObject({ width: 3, height: 2 });
    expect([...map.ids]).toEqual([1, 258, 196612, 16777215, 0, 7]);
  });

  it('refuse a greyscale file with the reason', async () => {
    const file = path.join(dir, 'grey-as-panoptic.png');
    await writeGreyPng(file, grid(['01'], { '0': 0, '1': 1 }));
    await expect(readPanopticPng(file)).rejects.toThrow(/must be 8-bit RGB \(or RGBA\) with id = R \+ 256·G \+ 256²·B; this one is 8-bit greyscale/);
  });
});
