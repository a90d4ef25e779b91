import type { Logger } from '../../pipeline/log.ts';
import { openQueuedFile, type QueuedFileLimits } from '../../servers/queue/queued-file.ts';
import type { QueueBacklog } from '../../servers/queue/sink-queue.ts';

/**
 * A text file written line by line, opened (and its folder made) before the first frame, through
 * the sinks' lossless queue (servers/queue/queued-file.ts): no line is ever dropped; when the disk is
 * behind, `backpressure` gives the sink a promise for the pipeline to wait on.
 */
export interface LineFile {
  readonly path: string;
  write(line: string): void;
  /** A promise while the disk is behind by more than the queue's bound (backpressure). */
  backpressure(): Promise<void> | undefined;
  readonly backlog: QueueBacklog;
  /** Why writing stopped (the disk failed), once it has. */
  readonly failure: string | undefined;
  close(): Promise<void>;
}

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
