import { z } from 'zod';
import { defineSink, optionalSinkOption } from '../../pipeline/node.ts';
import { frameRecord } from './frame-record.ts';
import { openLineFile } from './line-file.ts';

/**
 * Events as JSON lines: one record per processed frame (see frame-record.ts), then one record
 * per line crossing or zone entry and exit of that frame (`{type: "line", ...}`,
 * `{type: "zone", ...}`). Nothing is ever dropped: the file is the record a user counts on.
 * Lines go through the sinks' lossless file queue (line-file.ts): when the disk falls more than
 * its bound behind, the sink's `backpressure` makes the pipeline wait for the disk. If the disk
 * fails (full), the file is cut back to its last whole line and the run stops, exit 1, unless
 * the sink says `optional: true`.
 *
 * ```yaml
 * sinks:
 *   - { type: events, path: out/events.jsonl }
 * ```
 */
export const eventsSink = defineSink({
  type: 'events',
  description: 'Writes one JSON line per processed frame to a file.',
  options: z.object({
    path: z.string().describe('File to write (created with its folder; replaced if it exists)'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx) {
    const file = await openLineFile(options.path, 'events', ctx.log);
    return {
      write(packet) {
        file.write(JSON.stringify(frameRecord(packet)));
        for (const event of packet.analytics?.events ?? []) file.write(JSON.stringify(event));
      },
      // The disk is behind: the pipeline waits for it (no line is ever dropped).
      backpressure: () => file.backpressure(),
      get backlog() {
        return file.backlog;
      },
      failure: () => file.failure,
      close: () => file.close(),
    };
  },
});
