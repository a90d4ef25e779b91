import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineSink, optionalSinkOption, type Sink } from '../../../pipeline/node.ts';
import { eventSnapshot } from '../../render/event-snapshot.ts';
import { openLineFile } from '../line-file.ts';
import { outputFolderProblem } from '../../../servers/output-path.ts';
import { applyRetention } from './retention.ts';
import { StreamClips } from './stream-clips.ts';

/** The ring's bound in bytes per stream, whatever `pre` says (5 s of 1080p JPEGs is ~45 MB). */
const RING_BYTES = 128 * 1024 * 1024;
/** Frames of a clip handed to the disk and not yet written, per clip, beyond which frames are left out. */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Snapshots being encoded and written at once, beyond which an event gets none (counted; the encodes are also capped for all sinks, render/event-snapshot.ts). */
const MAX_PENDING_SNAPSHOTS = 16;

/**
 * Event clips, as surveillance systems keep them (Frigate's clips, DeepStream's smart record):
 * for each line crossing or zone entry and exit, a clip from `pre` seconds before the event to
 * `post` seconds after, and a snapshot of the object.
 *
 *     <dir>/<stream>/<event id>.mkv   the clip (MJPEG in Matroska), named after its first event
 *     <dir>/<stream>/<event id>.jpg   the snapshot of each event
 *     <dir>/clips.jsonl               the index, added to run after run
 *
 * (an event's id, `AnalyticsEvent.id`, is `<iso time>-f<frame>-<line|zone>-<track id>`: the events file,
 * MQTT and the dashboard carry it, so each record names its snapshot.)
 *
 * Per stream, a ring (frame-ring.ts) keeps the last `pre` seconds of the overlay's JPEGs, the
 * ones encoded once per frame for every viewer, so nothing is encoded again: a clip is those
 * JPEGs stream-copied into Matroska by ffmpeg with their own presentation times (clip-writer.ts).
 * Events within `post` of an open clip's last event extend it (one clip, several events), up to
 * `maxSeconds`. The snapshot is the event frame's overlay cropped around the object's box with a
 * margin, the box drawn (render/event-snapshot.ts: one encode shared with MQTT and the viewer).
 *
 * The index has a line per event, `{"type":"event","event":{...},"clip":"road/....mkv",
 * "snapshot":"road/....jpg"}`, as it happens, and one per clip when it is written,
 * `{"type":"clip","clip":...,"startPtsMs","endPtsMs","frames","events","cut"}` (`cut`: the run
 * ended before `post`), and `{"type":"removed","file":...}` for what retention removed.
 * Retention (`days`, `bytes`) is applied when a clip is written, the oldest files first
 * (retention.ts).
 *
 * Memory: the ring (`pre` seconds, at most 128 MiB a stream) and, per clip being written, the
 * frames on their way to the disk (at most 32 MiB; the clip's frames wait on the disk, not in
 * memory). If the disk fails, the sink fails (`failure`): the run stops, exit 1, unless
 * `optional: true`.
 *
 * ```yaml
 * sinks:
 *   - { type: clips, dir: out/clips, pre: 5, post: 5, retention: { days: 7, bytes: 10000000000 } }
 * ```
 */
export const clipsSink = defineSink({
  type: 'clips',
  description: 'Writes a clip and a snapshot for each line or zone event, with what came before.',
  options: z.object({
    dir: z.string().describe('Folder of the clips, one sub-folder per stream, and the index clips.jsonl'),
    pre: z.number().nonnegative().default(5).describe('Seconds of video before the event'),
    post: z.number().nonnegative().default(5).describe('Seconds of video after the (last) event'),
    maxSeconds: z.number().positive().default(120).describe('Longest clip; events that keep coming start a new one'),
    retention: z
      .object({
        days: z.number().positive().optional().describe('Clips and snapshots older than this are removed'),
        bytes: z.number().int().positive().optional().describe('The oldest clips and snapshots are removed beyond this'),
      })
      .strict()
      .default({})
      .describe('How much to keep, checked when a clip is written'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx): Promise<Sink> {
    const dir = path.resolve(options.dir);
    const problem = outputFolderProblem(dir);
    if (problem) throw new Error(`clips: ${problem}`);
    const index = await openLineFile(path.join(dir, 'clips.jsonl'), 'clips index', ctx.log, undefined, true);
    const pending = new Set<Promise<unknown>>();
    let failure: string | undefined;
    let snapshotsInFlight = 0;
    const track = (work: Promise<unknown>) => {
      const settled = work.then(
        () => undefined,
        (error: Error) => void (failure ??= `clips: ${error.message}`),
      );
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
    };
    let retentionRun: Promise<void> = Promise.resolve();
    const streams = new Map(
      ctx.streams.map((stream) => [
        stream,
        new StreamClips(
          stream,
          {
            dir,
            preMs: options.pre * 1000,
            postMs: options.post * 1000,
            maxClipMs: options.maxSeconds * 1000,
            ringBytes: RING_BYTES,
            maxPendingBytes: MAX_PENDING_BYTES,
          },
          {
            onEvent(event, clip, snapshot, packet) {
              const encoded = snapshotsInFlight < MAX_PENDING_SNAPSHOTS ? eventSnapshot(packet, event) : undefined;
              const snapshotName = encoded ? snapshot : null;
              if (!encoded) {
                ctx.metrics.skip(stream, 'clips-snapshot');
              } else {
                snapshotsInFlight++;
                // A picture that does not encode costs this event its snapshot (logged); a disk
                // that does not write fails the sink, as for the clips.
                const written = encoded.then(
                  (jpeg) => writeFile(path.join(dir, snapshot), jpeg),
                  (error: Error) => ctx.log.warn(`clips: no snapshot for event ${event.id} (${error.message})`),
                );
                track(written.finally(() => snapshotsInFlight--));
              }
              index.write(JSON.stringify({ type: 'event', event, clip, snapshot: snapshotName }));
            },
            onClipEnded(clip, events, finished, cut) {
              track(
                finished.then((written) => {
                  index.write(
                    JSON.stringify({ type: 'clip', stream, clip, startPtsMs: written.startPtsMs, endPtsMs: written.endPtsMs, frames: written.frames, events, cut }),
                  );
                  ctx.log.info(`clip ${clip}: ${((written.endPtsMs - written.startPtsMs) / 1000).toFixed(1)} s, ${events} event(s)`);
                  // One retention pass at a time, in clip order.
                  retentionRun = retentionRun.then(async () => {
                    for (const file of await applyRetention(dir, options.retention)) index.write(JSON.stringify({ type: 'removed', file }));
                  });
                  return retentionRun;
                }),
              );
            },
            onFrameLeftOut: () => ctx.metrics.skip(stream, 'clips'),
          },
        ),
      ]),
    );
    ctx.log.info(`event clips to ${dir} (${options.pre} s before, ${options.post} s after)`);
    return {
      write(packet) {
        streams.get(packet.frame.stream)?.write(packet);
      },
      backpressure: () => index.backpressure(),
      failure: () => failure ?? index.failure ?? [...streams.values()].find((s) => s.failure !== undefined)?.failure,
      async close() {
        for (const s of streams.values()) s.end(true);
        while (pending.size) await Promise.all([...pending]);
        await index.close();
        if (failure !== undefined) throw new Error(failure);
      },
    };
  },
});
