import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../pipeline/log.ts';
import { outputFileProblem } from '../output-path.ts';
import { byteLengthOf } from './byte-length.ts';
import { SinkQueue, type QueueBacklog } from './sink-queue.ts';

/** Bytes handed to the file stream at once (its own buffer); the rest waits in the queue. */
export const FILE_IN_FLIGHT_BYTES = 1024 * 1024;
/** Bytes waiting for the disk past which the sink asks the pipeline to wait (backpressure). */
export const FILE_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export interface QueuedFileLimits {
  readonly inFlightBytes: number;
  readonly maxQueuedBytes: number;
}

/**
 * A file written through a lossless {@link SinkQueue} with backpressure: nothing written to it
 * is ever dropped. Each `write` is a whole record (a line): if the disk fails (full, or a file
 * size limit), the file is cut back to the end of the last record written whole, so it never
 * ends in half a line; `failure` says why from then on (the graph logs it, once), every later
 * text is counted as not written, and `close` rejects saying how much was lost and why. `backpressure`
 * gives a promise while the disk is more than `maxQueuedBytes` behind; a sink hands it on from
 * its own `backpressure`, so the pipeline waits for the disk instead of growing memory.
 */
export interface QueuedFile {
  readonly path: string;
  write(text: string): void;
  /** A promise while the disk is more than `maxQueuedBytes` behind (see {@link SinkQueue.backpressure}). */
  backpressure(): Promise<void> | undefined;
  readonly backlog: QueueBacklog;
  /** Why writing stopped (the disk failed), once it has; see `Sink.failure`. */
  readonly failure: string | undefined;
  /** Writes what waits, closes the file; rejects if anything could not be written. */
  close(): Promise<void>;
}

/**
 * Opens `file` for writing, replacing it (its folder made), or adding to its end with `append`
 * (an index kept across runs); fails with the path and the reason.
 */
export async function openQueuedFile(
  file: string,
  what: string,
  log: Logger,
  limits: QueuedFileLimits = { inFlightBytes: FILE_IN_FLIGHT_BYTES, maxQueuedBytes: FILE_MAX_QUEUED_BYTES },
  append = false,
): Promise<QueuedFile> {
  const absolute = path.resolve(file);
  // Makes the folder, or says which part of the path is in the way (a file, no permission).
  const problem = outputFileProblem(absolute);
  if (problem) throw new Error(`${what}: ${problem}`);
  // Appending: what the file held is whole, a failure cuts back to it at most.
  const existingBytes = append ? await stat(absolute).then((f) => (f.isFile() ? f.size : 0), () => 0) : 0;
  const out: WriteStream = createWriteStream(absolute, { flags: append ? 'a' : 'w' });
  await Promise.race([once(out, 'open'), once(out, 'error').then(([err]) => Promise.reject(err as Error))]).catch((err: Error) => {
    throw new Error(`${what}: cannot open ${absolute} for writing: ${err.message}`);
  });
  let unwritten = 0;
  /** Bytes of the records the file has taken whole, in order: where a failed file is cut back to. */
  let wholeBytes = existingBytes;
  /** The file cut back to its last whole record, once it failed. */
  let cutBack: Promise<void> | undefined;
  let cutBackNote = '';
  let cutBackDone = false;
  const cutToWholeRecords = () =>
    (cutBack ??= stat(absolute).then(async (file) => {
      if (!file.isFile()) return; // a device or a pipe: nothing to cut back
      await truncate(absolute, wholeBytes);
      cutBackNote = `; it ends at its last whole record (${wholeBytes} bytes)`;
    }).then(
      () => undefined,
      (error: Error) => void (cutBackNote = `; it could not be cut back to its last whole record: ${error.message}`),
    ).finally(() => (cutBackDone = true)));
  const queue = new SinkQueue<string>({
    transmit: (text, taken) =>
      out.write(text, (error) => {
        if (!error) wholeBytes += byteLengthOf(text);
        taken(error);
      }),
    byteLength: byteLengthOf,
    overflow: 'backpressure',
    ...limits,
    // The graph reports the failure (Sink.failure), once; here only what became of the file.
    onCut: (reason) => {
      log.debug(`${what}: ${absolute}: ${reason}; nothing more is written to it`);
      void cutToWholeRecords();
    },
  });
  // A write's callback usually brings the error to the queue; one that surfaces only while the
  // file is being finished (a reader gone between the last write and the end) cuts it here, so
  // it is reported the same way either way. cut() keeps the first reason.
  let streamError: Error | undefined;
  out.on('error', (error) => {
    if (streamError) return; // the same failure, again
    streamError = error;
    // A write's callback has usually told the queue already; count the failure once.
    if (queue.cutBecause === undefined) queue.fail(error);
  });
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  return {
    path: absolute,
    write(text) {
      if (!queue.push(text)) unwritten++;
    },
    backpressure: () => queue.backpressure(),
    get backlog() {
      return queue.backlog;
    },
    get failure() {
      const reason = queue.cutBecause ?? (streamError && `cannot send: ${streamError.message}`);
      // Told once the file is cut back to its last whole record (a moment after the failure).
      if (cutBack !== undefined && !cutBackDone) return undefined;
      return reason === undefined ? undefined : `${absolute}: ${reason.replace(/^cannot send: /, 'cannot write: ')}${cutBackNote}`;
    },
    async close() {
      await queue.drained();
      queue.close();
      if (!out.closed) out.end();
      await closed;
      // An error while finishing comes after the queue closed: the file is cut back here instead.
      const reason = queue.cutBecause ?? (streamError && `cannot send: ${streamError.message}`);
      if (reason !== undefined) {
        await cutToWholeRecords();
        throw new Error(`${what}: ${absolute} is incomplete (${reason}${cutBackNote}); ${unwritten} later writes were not made`);
      }
    },
  };
}
