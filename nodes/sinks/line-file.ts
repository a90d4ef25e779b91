import type { Logger } from '../../pipeline/log.ts';
import { openQueuedFile, type QueuedFile, type QueuedFileLimits } from '../../servers/queue/queued-file.ts';

/**
 * A text file written line by line, opened (and its folder made) before the first frame, through
 * the sinks' lossless queue (servers/queue/queued-file.ts): no line is ever dropped; when the disk is
 * behind, `backpressure` gives the sink a promise for the pipeline to wait on. A queued file whose
 * `write` takes one line without its newline.
 */
export type LineFile = QueuedFile;

/** Opens `file` for writing, replacing it (or adding to it, `append`); fails with the path and the reason. */
export async function openLineFile(file: string, what: string, log: Logger, limits?: QueuedFileLimits, append = false): Promise<LineFile> {
  const out = await openQueuedFile(file, what, log, limits, append);
  log.info(`${what} to ${out.path}`);
  return {
    path: out.path,
    write: (line) => out.write(line + '\n'),
    backpressure: () => out.backpressure(),
    get backlog() {
      return out.backlog;
    },
    get failure() {
      return out.failure;
    },
    close: () => out.close(),
  };
}
