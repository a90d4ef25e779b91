import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { z } from 'zod';
import { defineSink } from '../../pipeline/node.ts';
import { frameRecord } from './frame-record.ts';

/**
 * Events as JSON lines: one record per processed frame (see frame-record.ts). Nothing is ever
 * dropped: the file is the record a user counts on.
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
  }),
  async create(options, ctx) {
    const file = path.resolve(options.path);
    await mkdir(path.dirname(file), { recursive: true });
    const out = createWriteStream(file, { flags: 'w' });
    let failure: Error | undefined;
    out.on('error', (err) => {
      failure = err;
      ctx.log.error(`events: cannot write ${file}: ${err.message}`);
    });
    await Promise.race([once(out, 'open'), once(out, 'error').then(([err]) => Promise.reject(err as Error))]).catch(
      (err: Error) => {
        throw new Error(`events: cannot open ${file} for writing: ${err.message}`);
      },
    );
    ctx.log.info(`events to ${file}`);
    return {
      write(packet) {
        if (!failure) out.write(JSON.stringify(frameRecord(packet)) + '\n');
      },
      async close() {
        if (out.closed) return;
        out.end();
        await once(out, 'close');
      },
    };
  },
});
