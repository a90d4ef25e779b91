import path from 'node:path';
import { z } from 'zod';
import { toXywh } from '../../lib/geometry/box.ts';
import { defineSink, optionalSinkOption } from '../../pipeline/node.ts';
import { openLineFile, type LineFile } from './line-file.ts';
import { firstBackpressure, totalBacklog } from '../../servers/queue/sink-queue.ts';

/**
 * Tracks in the MOTChallenge text format, so a run can be evaluated with `panoptes eval mot`
 * (or any MOTChallenge tool): one line per confirmed track seen in a frame,
 * `frame,id,left,top,width,height,score,-1,-1,-1`, frames counted from 1.
 *
 * One file per stream: with one source the file is `path`; with several, `<name>-<stream><ext>`.
 *
 * ```yaml
 * sinks:
 *   - { type: mot-file, path: out/tracks.txt }
 * ```
 */
export const motFileSink = defineSink({
  type: 'mot-file',
  description: 'Writes confirmed tracks per frame in the MOTChallenge text format.',
  options: z.object({
    path: z.string().describe('File to write; with several streams, one file per stream beside it'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx) {
    const files = new Map<string, LineFile>();
    try {
      for (const stream of ctx.streams) {
        const { dir, name, ext } = path.parse(options.path);
        const file = ctx.streams.length === 1 ? options.path : path.join(dir, `${name}-${stream}${ext}`);
        files.set(stream, await openLineFile(file, `tracks of ${stream}`, ctx.log));
      }
    } catch (error) {
      // The graph never gets this sink to close: close what was already opened.
      await Promise.all([...files.values()].map((f) => f.close()));
      throw error;
    }
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      write(packet) {
        const file = files.get(packet.frame.stream);
        if (!file || !packet.tracks) return;
        for (const track of packet.tracks) {
          // Confirmed means seen in this frame; lost tracks are predictions, not observations.
          if (track.state !== 'confirmed') continue;
          const [x, y, w, h] = toXywh(track.bbox);
          file.write(`${packet.frame.seq + 1},${track.trackId},${round(x)},${round(y)},${round(w)},${round(h)},${round(track.score)},-1,-1,-1`);
        }
      },
      // A file whose disk is behind: the pipeline waits for it (no line is ever dropped).
      backpressure: () => firstBackpressure(files.values()),
      get backlog() {
        return totalBacklog(files.values());
      },
      failure: () => [...files.values()].find((f) => f.failure !== undefined)?.failure,
      async close() {
        const closing = await Promise.allSettled([...files.values()].map((f) => f.close()));
        const failed = closing.find((c) => c.status === 'rejected');
        if (failed) throw failed.reason;
      },
    };
  },
});
