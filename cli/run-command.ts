import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../lib/errors.ts';
import { assertOutputFile, assertOutputFolder } from '../servers/output-path.ts';
import { isImageSequence, openImageSequence } from '../nodes/sources/image-sequence.ts';
import { mcapLocation } from '../nodes/sources/mcap-location.ts';
import { isUrl } from '../nodes/sources/probe.ts';
import type { Logger } from '../pipeline/log.ts';
import type { Command } from './command.ts';
import { executionProviderOption } from './execution-provider-option.ts';
import { parseCommandLine, wholeNumber } from './parse-command-line.ts';

export const RUN_USAGE = `panoptes run <config> [options]

Runs the pipeline a config file describes (see configs/).

Options:
  --source <file|url>  replace the config's source: a video file, numbered images as a printf
                       pattern (img1/%06d.jpg; frame rate from a MOTChallenge seqinfo.ini
                       beside img1/, else 25), an MCAP recording (its first image channel, or
                       file.mcap#/topic), or an rtsp://, http(s)://... URL; played once
                       (the config's loop is for its own clip)
  --max-frames <N>     stop each source after N frames
  --fail-fast          a stream URL that cannot be read at start fails the run at once (exit 1),
                       as a missing file does; by default the run starts with the streams that
                       are there and the others wait for their camera (docs/operations.md)
  --no-realtime        process a file as fast as possible, every frame, in order
                       (default: paced at the file's own frame rate, like a live camera)
  --port <N>           serve the viewer on this port (adds a viewer if the config has none)
  --foxglove <port>    serve the Foxglove WebSocket protocol on this port (0 = any free port)
  --metrics-port <N>   serve /metrics (Prometheus), /healthz and /readyz on this port
                       (the viewer's port serves them too)
  --events <file>      write one JSON line per processed frame to <file>
  --record <file.mp4>  record the overlaid video (H.264, plays in real time)
  --mcap <file.mcap>   record the run as MCAP (camera images, annotations, panoptic
                       segmentation, counts, events; opens in Foxglove; plays back as --source)
  --clips <dir>        keep a clip (5 s before to 5 s after) and a snapshot of each line or
                       zone event in <dir>, indexed in <dir>/clips.jsonl
  --mot-out <file>     write the confirmed tracks in MOTChallenge format (for panoptes eval mot)
  --save-panoptic <dir>  write a COCO panoptic PNG per frame and a JSON per stream
                       (track ids as instance ids; for panoptes eval panoptic / video-panoptic)
  --save-instances <file.json>  write the confirmed thing instances as COCO results (RLE masks,
                       boxes, scores) and, beside it as <name>.gt.json, as COCO ground truth
                       (for panoptes eval instance)
  --ep <provider>      onnxruntime execution provider: cpu, webgpu, cuda or tensorrt
                       (falls back to cpu, with a log line, when it cannot run)

Cluster (docs/operations.md, "Beyond one machine"):
  --cluster <nats://host:4222>  share the config's streams with the other workers on this NATS
                       server: each stream runs on one worker; results go to panoptes.<stream>.*
  --worker <name>      this worker's name (default: host name and process id)
  --capacity <N>       run at most N streams on this worker (default: no limit)`;

type Entry = Record<string, unknown>;
const entries = (value: unknown): Entry[] =>
  Array.isArray(value) ? value.filter((e): e is Entry => e !== null && typeof e === 'object') : [];

/** `panoptes run`: returns the process exit code. */
async function run(args: readonly string[], log: Logger): Promise<number> {
  const { values, positionals, help } = parseCommandLine(args, {
    options: {
      source: { type: 'string' },
      'max-frames': { type: 'string' },
      'no-realtime': { type: 'boolean', default: false },
      'fail-fast': { type: 'boolean', default: false },
      port: { type: 'string' },
      events: { type: 'string' },
      foxglove: { type: 'string' },
      'metrics-port': { type: 'string' },
      'mot-out': { type: 'string' },
      record: { type: 'string' },
      mcap: { type: 'string' },
      clips: { type: 'string' },
      'save-panoptic': { type: 'string' },
      'save-instances': { type: 'string' },
      ep: { type: 'string' },
      cluster: { type: 'string' },
      worker: { type: 'string' },
      capacity: { type: 'string' },
    },
    positionals: { min: 1, max: 1, expected: 'exactly one config file' },
  });
  if (help) {
    process.stdout.write(RUN_USAGE + '\n');
    return 0;
  }
  const configFile = positionals[0]!;
  const maxFrames = wholeNumber(values['max-frames'], '--max-frames');
  const port = wholeNumber(values.port, '--port', { max: 65535 });
  const foxglovePort = wholeNumber(values.foxglove, '--foxglove', { max: 65535 });
  const metricsPort = wholeNumber(values['metrics-port'], '--metrics-port', { max: 65535 });
  const ep = executionProviderOption(values.ep);
  const cluster = clusterOptions(values);
  // A --source path is relative to where the command runs, like any file argument.
  const given = values.source?.startsWith('file://') ? fileURLToPath(values.source) : values.source;
  const source = given === undefined || isUrl(given) || path.isAbsolute(given) ? given : path.resolve(given);
  const mcap = source !== undefined && !isUrl(source) && /\.mcap(#|$)/i.test(source) ? mcapLocation(source) : undefined;
  if (mcap && !existsSync(mcap.file)) throw new UsageError(`--source: MCAP file not found: ${mcap.file}`);
  if (source !== undefined && !mcap && !isUrl(source) && !existsSync(source)) {
    // Numbered images: found now, so a wrong folder or pattern is a usage mistake, named as such.
    if (!isImageSequence(source)) throw new UsageError(`--source: video not found: ${source}`);
    try {
      openImageSequence(source);
    } catch (error) {
      throw new UsageError(`--source: ${(error as Error).message}`);
    }
  }
  // Output paths are checked before anything loads: a run must not process every frame and
  // only then find that it cannot write its result.
  for (const flag of ['events', 'record', 'mcap', 'mot-out', 'save-instances'] as const) {
    const given = values[flag];
    if (given !== undefined) assertOutputFile(`--${flag}`, given);
  }
  if (values['save-panoptic'] !== undefined) assertOutputFolder('--save-panoptic', values['save-panoptic']);
  if (values.clips !== undefined) assertOutputFolder('--clips', values.clips);

  // Loaded once the command line is known to be good: the nodes bring onnxruntime, sharp and
  // ffmpeg bindings, seconds of loading that --help and a usage mistake need not wait for.
  const [{ loadPipeline }, { runPipeline }, { builtinNodes }] = await Promise.all([
    import('../pipeline/load.ts'),
    import('../pipeline/run.ts'),
    import('../nodes/index.ts'),
  ]);
  const edit = (raw: Record<string, unknown>) => {
    const sources = entries(raw.sources);
    if (source !== undefined) {
      if (sources.length !== 1) {
        throw new UsageError(`--source replaces the one source of a config; ${configFile} has ${sources.length}`);
      }
      if (mcap) {
        // A recording plays through the mcap source, paced as the config's source was.
        const entry = sources[0]!;
        for (const key of Object.keys(entry)) if (key !== 'id' && key !== 'realtime') delete entry[key];
        Object.assign(entry, { type: 'mcap-playback', path: source });
      } else {
        sources[0]!.uri = source;
        // The config's loop is for its own demo clip: the user's clip plays once, so that a run
        // to score it (--mot-out, --events) ends at its last frame instead of replaying it for ever.
        delete sources[0]!.loop;
      }
    }
    for (const s of sources) {
      if (maxFrames !== undefined) s.maxFrames = maxFrames;
      if (values['no-realtime']) s.realtime = false;
      if (values['fail-fast'] && (s.type ?? 'ffmpeg') === 'ffmpeg') s.failFast = true;
    }
    const sinks = entries(raw.sinks);
    if (port !== undefined) {
      const viewers = sinks.filter((s) => s.type === 'viewer');
      if (viewers.length) viewers.forEach((v) => (v.port = port));
      else sinks.push({ type: 'viewer', port });
    }
    if (foxglovePort !== undefined) sinks.push({ type: 'foxglove', port: foxglovePort });
    if (metricsPort !== undefined) sinks.push({ type: 'metrics', port: metricsPort });
    if (values.events !== undefined) sinks.push({ type: 'events', path: values.events });
    if (values.record !== undefined) sinks.push({ type: 'record', path: values.record });
    if (values.mcap !== undefined) sinks.push({ type: 'mcap', path: values.mcap });
    if (values.clips !== undefined) sinks.push({ type: 'clips', dir: values.clips });
    if (values['mot-out'] !== undefined) sinks.push({ type: 'mot-file', path: values['mot-out'] });
    if (values['save-panoptic'] !== undefined) sinks.push({ type: 'panoptic-png', dir: values['save-panoptic'] });
    if (values['save-instances'] !== undefined) sinks.push({ type: 'coco-instances', path: values['save-instances'] });
    raw.sinks = sinks;
    if (ep !== undefined) raw.executionProviders = [ep];
  };
  if (cluster) return runClusterWorker({ ...cluster, configFile, edit, log });
  const { spec, dataDir } = loadPipeline(configFile, builtinNodes(), edit);

  const started = Date.now();
  const result = await runPipeline(spec, { dataDir, log });
  const seconds = (Date.now() - started) / 1000;
  for (const s of result.stats) {
    const drops = Object.entries(s.drops)
      .map(([where, n]) => `${where} ${n}`)
      .join(', ');
    log.info(
      `${s.stream}: ${s.processed} frames processed of ${s.decoded} decoded in ${seconds.toFixed(1)} s ` +
        `(${(s.processed / seconds).toFixed(1)} frames/s), dropped ${s.dropped}${drops ? ` (${drops})` : ''}, errors ${s.errors}` +
        (s.reconnects > 0 || s.stalls > 0 ? `, source restarted ${s.reconnects} times (stalls ${s.stalls})` : ''),
    );
  }
  // A sink that failed lost what it could no longer write: the run did not do what was asked
  // (the graph logged it once, when it failed). An optional one was left behind on purpose.
  const failedSinks = result.failedSinks.filter((f) => !f.optional);
  return result.outcomes.some((o) => o.error) || failedSinks.length > 0 ? 1 : 0;
}

/** `--cluster`, `--worker`, `--capacity`: checked here, used by cluster/worker.ts. */
function clusterOptions(values: { cluster?: string; worker?: string; capacity?: string }) {
  if (values.cluster === undefined) {
    const stray = values.worker !== undefined ? '--worker' : values.capacity !== undefined ? '--capacity' : undefined;
    if (stray) throw new UsageError(`${stray} needs --cluster nats://host:4222`);
    return undefined;
  }
  if (!/^(nats|tls):\/\/[^/]+/.test(values.cluster)) {
    throw new UsageError(`--cluster: expected a NATS server URL like nats://127.0.0.1:4222, got "${values.cluster}"`);
  }
  if (values.worker !== undefined && !/^[A-Za-z0-9_-]+$/.test(values.worker)) {
    throw new UsageError(`--worker: "${values.worker}" must be letters, digits, - or _ (it is a key in NATS)`);
  }
  const capacity = wholeNumber(values.capacity, '--capacity', { min: 1 });
  return { url: values.cluster, worker: values.worker, capacity: capacity ?? Infinity };
}

/** A cluster worker until Ctrl-C (which hands its streams back) or SIGTERM. */
async function runClusterWorker(options: {
  url: string;
  worker: string | undefined;
  capacity: number;
  configFile: string;
  edit: (raw: Record<string, unknown>) => void;
  log: Logger;
}): Promise<number> {
  const [{ ClusterWorker }, { defaultWorkerName }] = await Promise.all([
    import('../cluster/worker.ts'),
    import('../nodes/sinks/nats/nats-sink.ts'),
  ]);
  const worker = await ClusterWorker.start({ ...options, worker: options.worker ?? defaultWorkerName() });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      options.log.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    signalled = true;
    options.log.info(`${signal}: handing the streams back`);
    void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

export const runCommand: Command = { usage: RUN_USAGE, run };
