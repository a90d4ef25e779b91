import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isUrl } from '../nodes/sources/probe.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { Logger } from '../pipeline/log.ts';
import { runPipeline } from '../pipeline/run.ts';
import { UsageError } from './usage-error.ts';
import { builtinNodes } from '../nodes/index.ts';

export const RUN_USAGE = `panoptes run <config> [options]

Runs the pipeline a config file describes (see configs/).

Options:
  --source <file|url>  replace the config's source: a video file, or an rtsp://, http(s)://... URL
  --max-frames <N>     stop each source after N frames
  --no-realtime        process a file as fast as possible, every frame, in order
                       (default: paced at the file's own frame rate, like a live camera)
  --port <N>           serve the viewer on this port (adds a viewer if the config has none)
  --foxglove <port>    serve the Foxglove WebSocket protocol on this port (0 = any free port)
  --events <file>      write one JSON line per processed frame to <file>
  --record <file.mp4>  record the overlaid video (H.264, plays in real time)
  --mot-out <file>     write the confirmed tracks in MOTChallenge format (for panoptes eval mot)
  --save-panoptic <dir>  write a COCO panoptic PNG per frame and a JSON per stream
                       (track ids as instance ids; for panoptes eval panoptic / video-panoptic)
  --ep <provider>      onnxruntime execution provider: cpu, webgpu, cuda or tensorrt
                       (falls back to cpu, with a log line, when it cannot run)`;

const EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda', 'tensorrt'];

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} expects a whole number, got "${value}"`);
  return n;
}

type Entry = Record<string, unknown>;
const entries = (value: unknown): Entry[] =>
  Array.isArray(value) ? value.filter((e): e is Entry => e !== null && typeof e === 'object') : [];

/** `panoptes run`: returns the process exit code. */
export async function runCommand(args: readonly string[], log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      'max-frames': { type: 'string' },
      'no-realtime': { type: 'boolean', default: false },
      port: { type: 'string' },
      events: { type: 'string' },
      foxglove: { type: 'string' },
      'mot-out': { type: 'string' },
      record: { type: 'string' },
      'save-panoptic': { type: 'string' },
      ep: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_USAGE + '\n');
    return 0;
  }
  const [configFile, ...extra] = positionals;
  if (!configFile || extra.length) throw new UsageError('expected exactly one config file');
  const maxFrames = positiveInteger(values['max-frames'], '--max-frames');
  const port = positiveInteger(values.port, '--port');
  const foxglovePort = positiveInteger(values.foxglove, '--foxglove');
  if (values.ep !== undefined && !EXECUTION_PROVIDERS.includes(values.ep)) {
    throw new UsageError(`--ep expects one of ${EXECUTION_PROVIDERS.join(', ')}, got "${values.ep}"`);
  }
  // A --source path is relative to where the command runs, like any file argument.
  const given = values.source?.startsWith('file://') ? fileURLToPath(values.source) : values.source;
  const source = given === undefined || isUrl(given) || path.isAbsolute(given) ? given : path.resolve(given);
  if (source !== undefined && !isUrl(source) && !existsSync(source)) {
    throw new UsageError(`--source: video not found: ${source}`);
  }

  const { spec, dataDir } = loadPipeline(configFile, builtinNodes(), (raw) => {
    const sources = entries(raw.sources);
    if (source !== undefined) {
      if (sources.length !== 1) {
        throw new UsageError(`--source replaces the one source of a config; ${configFile} has ${sources.length}`);
      }
      sources[0]!.uri = source;
    }
    for (const s of sources) {
      if (maxFrames !== undefined) s.maxFrames = maxFrames;
      if (values['no-realtime']) s.realtime = false;
    }
    const sinks = entries(raw.sinks);
    if (port !== undefined) {
      const viewers = sinks.filter((s) => s.type === 'viewer');
      if (viewers.length) viewers.forEach((v) => (v.port = port));
      else sinks.push({ type: 'viewer', port });
    }
    if (foxglovePort !== undefined) sinks.push({ type: 'foxglove', port: foxglovePort });
    if (values.events !== undefined) sinks.push({ type: 'events', path: values.events });
    if (values.record !== undefined) sinks.push({ type: 'record', path: values.record });
    if (values['mot-out'] !== undefined) sinks.push({ type: 'mot-file', path: values['mot-out'] });
    if (values['save-panoptic'] !== undefined) sinks.push({ type: 'panoptic-png', dir: values['save-panoptic'] });
    raw.sinks = sinks;
    if (values.ep !== undefined) raw.executionProviders = [values.ep];
  });

  const started = Date.now();
  const result = await runPipeline(spec, { dataDir, log });
  const seconds = (Date.now() - started) / 1000;
  for (const s of result.stats) {
    const drops = Object.entries(s.drops)
      .map(([where, n]) => `${where} ${n}`)
      .join(', ');
    log.info(
      `${s.stream}: ${s.processed} frames processed of ${s.decoded} decoded in ${seconds.toFixed(1)} s ` +
        `(${(s.processed / seconds).toFixed(1)} frames/s), dropped ${s.dropped}${drops ? ` (${drops})` : ''}, errors ${s.errors}`,
    );
  }
  return result.outcomes.some((o) => o.error) ? 1 : 0;
}
