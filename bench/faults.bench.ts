/**
 * The fault bench (`panoptes bench --faults [config]`, default configs/multi.yaml): the whole
 * live pipeline, real inference, with faults injected into two of its streams while the others
 * are watched.
 *
 * - The first stream is a looping file: its ffmpeg is killed `kills` times (SIGKILL, SIGTERM and
 *   SIGINT in turn), each once it runs again.
 * - The last stream is served by a {@link LiveHttpCamera} (its clip, as live HTTP-FLV): the camera
 *   is stopped `restarts` times for `downMs` and started again on the same port.
 *
 * Reported: each fault's recovery time against its budget (the backoff wait plus 2 s; for a
 * camera, from the moment it is back), the states seen, and the frame rate (frames decoded per
 * second) of the streams not under fault during each phase against a baseline measured before
 * any fault (target ±10%), with the rate through the whole pipeline beside it.
 * - Then Ctrl-C in a terminal during a recording of configs/dashcam.yaml, at full length
 *   (faults-ctrl-c.ts): a playable mp4, as long as one stopped by SIGINT to node alone.
 * - Then a disk that fills under `--events` and under `--record` of configs/dashcam.yaml
 *   (testing/faults-disk.ts): exit 1 within 5 s of the failure, logged once, every events line whole,
 *   the recording playing to within a second of what reached ffmpeg.
 * The config's sinks are replaced by a metrics sink on a free port: no viewer port needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinNodes } from '../nodes/index.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { LiveHttpCamera } from '../testing/faults-camera.ts';
import { interruptRecordings, type InterruptedRecording } from './faults-ctrl-c.ts';
import { diskFullProblems, diskFullUnavailable, runOntoFillingDisk, type DiskFullRun } from '../testing/faults-disk.ts';
import { FaultRun, type Recovery } from '../testing/faults-harness.ts';
import { benchBrokerDownAtStart, benchCameraDownAtStart, formatStartFaults } from './faults-start.ts';
import { round } from './stats.ts';

export interface FaultsBenchOptions {
  readonly config: string;
  readonly kills?: number;
  readonly restarts?: number;
  /** How long the camera stays away each time. */
  readonly downMs?: number;
  readonly ep?: ExecutionProvider;
  /** Ctrl-C to a recording run this long after it starts recording (default 60 s; 0: skipped). */
  readonly ctrlCAtSeconds?: number;
}

export interface FaultFigure {
  readonly fault: string;
  readonly recoveryMs: number;
  /** What the recovery is held to: the backoff wait in effect plus 2 s. */
  readonly budgetMs: number;
  readonly withinBudget: boolean;
  readonly states: string;
}

export interface PhaseRates {
  readonly phase: string;
  readonly seconds: number;
  /** Frames per second each stream not under fault took in (decoded) in this phase: its frame rate. */
  readonly fps: Readonly<Record<string, number>>;
  /** fps / baseline fps - 1, per stream: the figure held to ±10%. */
  readonly change: Readonly<Record<string, number>>;
  /**
   * Frames per second that went through the whole pipeline. Not held to the baseline: the
   * streams share the CPU, so a stream that is down leaves the others more of it.
   */
  readonly processedFps: Readonly<Record<string, number>>;
}

export interface FaultsBenchResult {
  readonly config: string;
  readonly killed: string;
  readonly camera: string;
  readonly kills: readonly FaultFigure[];
  readonly cameraRestarts: readonly FaultFigure[];
  /** Decoded frames per second of every stream before any fault. */
  readonly baseline: Readonly<Record<string, number>>;
  readonly baselineProcessed: Readonly<Record<string, number>>;
  /** The machine's 1-minute load average at the start and the end (other work on it skews rates). */
  readonly loadAverage: readonly [number, number];
  readonly phases: readonly PhaseRates[];
  /** `panoptes run configs/dashcam.yaml --record` interrupted by its process group and by its node process alone. */
  readonly ctrlC: readonly InterruptedRecording[];
  readonly failures: readonly string[];
}

const RECOVERY_SLACK_MS = 2000;
const RATE_TOLERANCE = 0.1;
const FAULT_TIMEOUT_MS = 60_000;
const BASELINE_MS = 15_000;
const SETTLE_MS = 10_000;
/** Between two kills: the stream runs a while, as after a real crash. */
const BETWEEN_KILLS_MS = 1000;
const SIGNALS: readonly NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGINT'];
/** The config recorded and interrupted by Ctrl-C: one stream, so the recording has one source. */
const RECORDED_CONFIG = fileURLToPath(new URL('../configs/dashcam.yaml', import.meta.url));
/** How much shorter a recording cut by Ctrl-C to the group may be than one cut at node alone. */
const CTRL_C_LENGTH_SLACK_S = 2;

/** Decoded and processed frames per stream at one moment. */
type Counts = Map<string, { decoded: number; processed: number }>;

export async function benchFaults(options: FaultsBenchOptions, progress: (line: string) => void): Promise<FaultsBenchResult> {
  const kills = options.kills ?? 20;
  const restarts = options.restarts ?? 5;
  const downMs = options.downMs ?? 3000;
  let killed = '';
  let served = '';
  const { spec, dataDir } = loadPipeline(options.config, builtinNodes(), (raw) => {
    const sources = Array.isArray(raw.sources) ? (raw.sources as Record<string, unknown>[]) : [];
    if (sources.length < 3) throw new Error(`${options.config}: the fault bench needs 3 streams or more (one killed, one served over HTTP, the rest watched)`);
    const first = sources[0]!;
    const last = sources.at(-1)!;
    killed = String(first.id);
    served = String(last.id);
    first.loop = true;
    delete last.loop; // it becomes a stream URL below, where loop means nothing
    raw.sinks = [{ type: 'metrics', port: 0 }];
    if (options.ep) raw.executionProviders = [options.ep];
  });
  // The served stream's clip is under the data directory, known once the config is resolved.
  const servedSource = spec.sources.find((s) => s.id === served)!;
  const clip = path.resolve(dataDir, String((servedSource.options as { uri: string }).uri));
  const camera = new LiveHttpCamera(clip);
  await camera.start();
  (servedSource.options as { uri: string }).uri = camera.url;

  progress(`faults: ${spec.sources.length} streams from ${options.config}; killing ${killed}'s ffmpeg ${kills} times, restarting ${served}'s camera ${restarts} times`);
  const loadAtStart = loadavg()[0]!;
  // Warnings and errors on stderr as they come: the faults' own log lines, and anything else.
  const run = await FaultRun.startSpec(spec, { dataDir, echo: (line) => !line.startsWith('info') && process.stderr.write(`${line}\n`) });
  const failures: string[] = [];
  const counts = (): Counts => new Map(run.metrics.snapshot().map((s) => [s.stream, { decoded: s.decoded, processed: s.processed }]));
  const ratesSince = (before: Counts, startedAt: number, streams: readonly string[]) => {
    const seconds = (performance.now() - startedAt) / 1000;
    const after = counts();
    const rate = (s: string, key: 'decoded' | 'processed') => ((after.get(s)?.[key] ?? 0) - (before.get(s)?.[key] ?? 0)) / seconds;
    return {
      seconds,
      fps: Object.fromEntries(streams.map((s) => [s, rate(s, 'decoded')])),
      processedFps: Object.fromEntries(streams.map((s) => [s, rate(s, 'processed')])),
    };
  };
  const figure = (r: Recovery, fromMs: number, budgetMs: number): FaultFigure => ({
    fault: r.fault,
    recoveryMs: Math.round(fromMs),
    budgetMs,
    withinBudget: fromMs <= budgetMs,
    states: r.states.join(' → '),
  });

  try {
    await run.waitFor(() => run.metrics.readiness().ready, FAULT_TIMEOUT_MS, 'every stream running');
    progress(`faults: all running; settling ${SETTLE_MS / 1000} s, then a ${BASELINE_MS / 1000} s baseline`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const streams = spec.sources.map((s) => s.id);
    let before = counts();
    let startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const baselineRates = ratesSince(before, startedAt, streams);
    const baseline = baselineRates.fps;

    const phases: PhaseRates[] = [];
    const phase = (name: string, watched: readonly string[], since: Counts, at: number) => {
      const { seconds, fps, processedFps } = ratesSince(since, at, watched);
      const change = Object.fromEntries(watched.map((s) => [s, (fps[s] ?? 0) / (baseline[s] ?? 1) - 1]));
      phases.push({ phase: name, seconds: round(seconds), fps: roundAll(fps, 2), change: roundAll(change, 3), processedFps: roundAll(processedFps, 2) });
      for (const [stream, c] of Object.entries(change)) {
        if (Math.abs(c) > RATE_TOLERANCE) failures.push(`${name}: ${stream} ran at ${round((fps[stream] ?? 0), 2)} fps, ${round(c * 100)}% from its baseline ${round(baseline[stream] ?? 0, 2)}`);
      }
    };

    const killFigures: FaultFigure[] = [];
    before = counts();
    startedAt = performance.now();
    for (let k = 0; k < kills; k++) {
      const recovery = await run.killAndRecover(killed, SIGNALS[k % SIGNALS.length]!, FAULT_TIMEOUT_MS);
      const budget = (recovery.backoffMs.at(-1) ?? 0) + RECOVERY_SLACK_MS;
      killFigures.push(figure(recovery, recovery.recoveryMs, budget));
      progress(`faults: kill ${k + 1}/${kills} (${recovery.fault}): running again after ${Math.round(recovery.recoveryMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, BETWEEN_KILLS_MS));
    }
    phase(`${kills} kills of ${killed}`, streams.filter((s) => s !== killed), before, startedAt);

    const restartFigures: FaultFigure[] = [];
    before = counts();
    startedAt = performance.now();
    for (let k = 0; k < restarts; k++) {
      let backAt = 0;
      const recovery = await run.faultAndRecover(
        served,
        `camera away ${downMs / 1000} s (restart ${k + 1})`,
        async () => {
          await camera.stop();
          await new Promise((resolve) => setTimeout(resolve, downMs));
          await camera.start();
          backAt = performance.now();
        },
        FAULT_TIMEOUT_MS,
      );
      const budget = (recovery.backoffMs.at(-1) ?? 0) + RECOVERY_SLACK_MS;
      restartFigures.push(figure(recovery, recovery.recoveredAtMs - backAt, budget));
      progress(`faults: camera restart ${k + 1}/${restarts}: running again ${Math.round(recovery.recoveredAtMs - backAt)} ms after the camera was back`);
      await new Promise((resolve) => setTimeout(resolve, BETWEEN_KILLS_MS));
    }
    phase(`${restarts} restarts of ${served}'s camera`, streams.filter((s) => s !== served), before, startedAt);

    for (const f of [...killFigures, ...restartFigures]) {
      if (!f.withinBudget) failures.push(`${f.fault}: running again after ${f.recoveryMs} ms, budget ${f.budgetMs} ms`);
    }
    const ctrlC: InterruptedRecording[] = [];
    const result: FaultsBenchResult = {
      config: options.config,
      killed,
      camera: served,
      kills: killFigures,
      cameraRestarts: restartFigures,
      baseline: roundAll(baseline, 2),
      baselineProcessed: roundAll(baselineRates.processedFps, 2),
      loadAverage: [round(loadAtStart, 1), round(loadavg()[0]!, 1)],
      phases,
      ctrlC,
      failures,
    };
    const outcomes = await run.stop();
    for (const o of outcomes) if (o.error) failures.push(`stream ${o.stream} failed: ${o.error.message}`);
    await camera.stop();
    const ctrlCAt = options.ctrlCAtSeconds ?? 60;
    if (ctrlCAt > 0) {
      progress(`faults: recording ${path.relative(process.cwd(), RECORDED_CONFIG)} twice at once; Ctrl-C at ${ctrlCAt} s, to the process group and to node alone`);
      const recordings = await interruptRecordings(RECORDED_CONFIG, ctrlCAt, dataDir);
      ctrlC.push(...recordings);
      failures.push(...ctrlCFailures(recordings));
    }
    // What is down at start (faults-start.ts): a camera for 10 s, the MQTT broker for 10 s.
    const atStart = await benchCameraDownAtStart(options.config, options.ep ? { ep: options.ep } : {}, progress);
    const brokerAtStart = await benchBrokerDownAtStart(dataDir, {}, progress);
    failures.push(...atStart.failures, ...brokerAtStart.failures);
    progress(`faults: down at start:\n${formatStartFaults(atStart, brokerAtStart)}`);
    // A disk that fills under --events and under --record (testing/faults-disk.ts).
    const diskDir = mkdtempSync(path.join(tmpdir(), 'panoptes-disk-full-'));
    const diskFull = await benchDiskFull(RECORDED_CONFIG, diskDir, dataDir, progress).finally(() => rmSync(diskDir, { recursive: true, force: true }));
    failures.push(...diskFull.failures);
    progress(`faults: a disk that fills:\n${formatDiskFull(diskFull.runs)}`);
    progress(`faults: measured:\n${formatFaults(result)}`);
    return result;
  } finally {
    await run.stop();
    await camera.stop();
  }
}

function ctrlCFailures(recordings: readonly InterruptedRecording[]): string[] {
  const failures = recordings.filter((r) => !r.playable || r.problem).map((r) => `Ctrl-C to ${r.target} at ${r.atSeconds} s: ${r.problem ?? 'not playable'}`);
  const group = recordings.find((r) => r.target === 'process group');
  const alone = recordings.find((r) => r.target === 'node alone');
  if (group && alone && group.videoSeconds < alone.videoSeconds - CTRL_C_LENGTH_SLACK_S) {
    failures.push(`Ctrl-C to the process group left ${group.videoSeconds} s of video, ${round(alone.videoSeconds - group.videoSeconds, 2)} s less than SIGINT to node alone`);
  }
  return failures;
}

function roundAll(values: Readonly<Record<string, number>>, digits: number): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, digits)]));
}

/** The bench's figures as a table. */
export function formatFaults(result: FaultsBenchResult): string {
  const lines = [`Faults on ${result.config}`, ''];
  const describe = (title: string, figures: readonly FaultFigure[]) => {
    const times = figures.map((f) => f.recoveryMs).sort((a, b) => a - b);
    lines.push(
      `${title}: ${figures.length}, back within budget ${figures.filter((f) => f.withinBudget).length}/${figures.length}; ` +
        `recovery ms min ${times[0] ?? '-'}, median ${times[Math.floor(times.length / 2)] ?? '-'}, max ${times.at(-1) ?? '-'}`,
    );
    for (const f of figures) lines.push(`  ${f.fault.padEnd(34)} ${String(f.recoveryMs).padStart(6)} ms (budget ${f.budgetMs})  ${f.states}`);
  };
  describe(`ffmpeg of ${result.killed} killed`, result.kills);
  describe(`camera of ${result.camera} restarted (time from its return)`, result.cameraRestarts);
  lines.push(
    '',
    `load average ${result.loadAverage[0]} at the start, ${result.loadAverage[1]} at the end`,
    `frames in per second (decoded), baseline: ${Object.entries(result.baseline).map(([s, f]) => `${s} ${f}`).join(', ')}`,
  );
  for (const p of result.phases) {
    lines.push(`  during ${p.phase} (${p.seconds} s): ${Object.entries(p.fps).map(([s, f]) => `${s} ${f} (${(p.change[s]! * 100).toFixed(1)}%)`).join(', ')}`);
  }
  lines.push(`frames through the pipeline per second, baseline: ${Object.entries(result.baselineProcessed).map(([s, f]) => `${s} ${f}`).join(', ')}`);
  for (const p of result.phases) {
    lines.push(`  during ${p.phase}: ${Object.entries(p.processedFps).map(([s, f]) => `${s} ${f}`).join(', ')}`);
  }
  for (const r of result.ctrlC) {
    lines.push(
      `Ctrl-C at ${r.atSeconds} s to ${r.target.padEnd(13)}: exit ${r.exitCode}, ${r.videoSeconds} s of video (${r.videoFrames} frames), ` +
        `${r.playable ? 'decodes to the end' : `NOT playable: ${r.problem}`}`,
    );
  }
  lines.push('', result.failures.length === 0 ? 'all within target' : `outside target:\n  ${result.failures.join('\n  ')}`, '');
  return lines.join('\n');
}

/**
 * The fault bench's disk cases: `config` (configs/dashcam.yaml: real models) run with `--events`
 * onto 512 KB and with `--record` onto 2 MB that fill, one after the other, in `dir`.
 */
async function benchDiskFull(
  config: string,
  dir: string,
  dataDir: string,
  progress: (line: string) => void,
): Promise<{ runs: DiskFullRun[]; failures: string[] }> {
  const unavailable = diskFullUnavailable();
  if (unavailable) return { runs: [], failures: [`disk full: not measured: ${unavailable}`] };
  const runs: DiskFullRun[] = [];
  for (const [output, limitBytes, file] of [
    ['events', 512 * 1024, 'disk-full-events.jsonl'],
    ['record', 2 * 1024 * 1024, 'disk-full-record.mp4'],
  ] as const) {
    progress(`faults: --${output} onto a disk that fills at ${limitBytes} bytes`);
    runs.push(await runOntoFillingDisk({ config, output, file: path.join(dir, file), limitBytes, env: { PANOPTES_DATA: dataDir }, timeoutMs: 300_000 }));
  }
  return { runs, failures: runs.flatMap((run) => diskFullProblems(run)) };
}

/** The disk cases as lines of the bench's report. */
function formatDiskFull(runs: readonly DiskFullRun[]): string {
  return runs
    .map((r) => {
      const common = `--${r.output} onto ${r.limitBytes} bytes: exit ${r.exitCode}, failed after ${r.failedAfterS} s, exited ${r.exitAfterFailureS} s after, logged ${r.failureLines}x`;
      return r.output === 'events'
        ? `${common}; ${r.lines} lines, ${r.allLinesParse && r.endsOnNewline ? 'every one whole' : 'ENDS IN A CUT-OFF LINE'}`
        : `${common}; plays ${r.playsS} s of the ${r.handedS} s that reached ffmpeg, ${r.decodesClean ? 'decodes to the end' : 'DOES NOT DECODE CLEANLY'}`;
    })
    .join('\n');
}
