import { open, truncate } from 'node:fs/promises';

/**
 * Cuts a fragmented MP4 (`ftyp`, `moov`, then `moof` + `mdat` pairs) back to its last whole
 * fragment: what a recorder leaves when its disk filled in the middle of writing one. What stays
 * decodes to its end without an error. Only the top-level box headers are read.
 *
 * Returns the file's size after the cut, and whether anything was cut. A file without a whole
 * `moov` is left as it is (there is nothing playable to keep).
 */
export async function cutToWholeFragments(file: string): Promise<{ bytes: number; cut: boolean }> {
  const handle = await open(file, 'r');
  let size: number;
  let whole = 0;
  let sawMoov = false;
  try {
    size = (await handle.stat()).size;
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= size) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < 8) break;
      let boxSize = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (boxSize === 1) {
        if (bytesRead < 16) break;
        boxSize = Number(header.readBigUInt64BE(8));
      } else if (boxSize === 0) {
        boxSize = size - offset; // "to the end of the file": a box its writer never finished
        if (type === 'mdat') break;
      }
      if (boxSize < 8 || offset + boxSize > size) break; // cut off in the middle
      offset += boxSize;
      if (type === 'moov') sawMoov = true;
      // A fragment is whole once its media data is: a `moof` alone is not kept.
      if (type !== 'moof') whole = offset;
    }
  } finally {
    await handle.close();
  }
  if (!sawMoov || whole >= size) return { bytes: size, cut: false };
  await truncate(file, whole);
  return { bytes: whole, cut: true };
}
