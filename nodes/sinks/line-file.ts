import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Logger } from '../../pipeline/log.ts';

/** A text file written line by line, opened (and its folder made) before the first frame. */
export interface LineFile {
  readonly path: string;
  write(line: string): void;
  close(): Promise<void>;
}

/** Opens `file` for writing, replacing it; fails with the path and the reason. */
export async function openLineFile(file: string, what: string, log: Logger): Promise<LineFile> {
  const absolute = path.resolve(file);
  await mkdir(path.dirname(absolute), { recursive: true });
  const out: WriteStream = createWriteStream(absolute, { flags: 'w' });
  await Promise.race([once(out, 'open'), once(out, 'error').then(([err]) => Promise.reject(err as Error))]).catch((err: Error) => {
    throw new Error(`${what}: cannot open ${absolute} for writing: ${err.message}`);
  });
  let failed = false;
  let warnedBehind = false;
  out.on('error', (err) => {
    failed = true;
    log.error(`${what}: cannot write ${absolute}: ${err.message}`);
  });
  log.info(`${what} to ${absolute}`);
  return {
    path: absolute,
    write(line) {
      if (failed) return;
      // Lines are never dropped; a disk that cannot keep up is said once, not hidden.
      if (!out.write(line + '\n') && !warnedBehind && out.writableLength > 64 * 1024 * 1024) {
        warnedBehind = true;
        log.warn(`${what}: ${absolute} is more than 64 MB behind; the disk is slower than the pipeline`);
      }
    },
    async close() {
      if (out.closed) return;
      out.end();
      await once(out, 'close');
    },
  };
}
