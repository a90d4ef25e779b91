/**
 * A disk that fills under `panoptes run --events` or `--record`, as a user meets it: the real
 * CLI in its own process, its files allowed to grow only to `limitBytes`. Used by
 * test/cli/run-disk-full.test.ts (small limits) and the fault bench (bench/faults.bench.ts).
 *
 * How the disk fills: RLIMIT_FSIZE on the run's process (`ulimit -f` in the shell that starts
 * it), which every Linux has and no privilege needs; a write past the limit fails as on a full
 * disk (node: EFBIG; the recorder's ffmpeg, which does not ignore SIGXFSZ, dies of it, as an
 * ffmpeg on a full disk exits with ENOSPC). A size-limited tmpfs does the same with ENOSPC
 * (checked by hand, docs/cli.md "Exit codes") but needs CAP_SYS_ADMIN to mount.
 *
 * Measured: exit code, seconds from the failure's log line to the exit, whether every line of
 * the events file parses (and it ends on a newline), and for a recording how much of what went
 * to ffmpeg plays (ffprobe) and whether it decodes to its end without an error.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '../servers/ffmpeg-binary.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export type FilledOutput = 'events' | 'record';

export interface DiskFullRun {
  readonly output: FilledOutput;
  readonly file: string;
  readonly limitBytes: number;
  readonly exitCode: number | null;
  /** From the start of the command to the failure's log line (`sink failed: …`). */
  readonly failedAfterS: number | undefined;
  /** From the failure's log line to the process's exit: held to 5 s. */
  readonly exitAfterFailureS: number | undefined;
  /** Lines of stderr that report the failure (`sink failed`) or a problem while stopping: 1 and 0 wanted. */
  readonly failureLines: number;
  readonly whileStoppingLines: number;
  readonly bytes: number;
  /** events: lines, all of which parse, and whether the file ends on a newline. */
  readonly lines?: number;
  readonly allLinesParse?: boolean;
  readonly endsOnNewline?: boolean;
  /** record: seconds of video that had gone to ffmpeg when it failed (its log line), and what plays. */
  readonly handedS?: number;
  readonly playsS?: number;
  readonly decodesClean?: boolean;
  readonly stderr: string;
}

/** The block size `ulimit -f` counts in, in the shell used here (dash: 512, bash: 1024); undefined where it cannot be read. */
function ulimitBlockBytes(): number | undefined {
  try {
    const limits = execFileSync('sh', ['-c', 'ulimit -f 1 && exec cat /proc/self/limits'], { encoding: 'utf8' });
    const match = /Max file size\s+(\d+)/.exec(limits);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a size-limited run cannot be made here, or undefined when it can. */
export function diskFullUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `RLIMIT_FSIZE through /proc/self/limits is Linux only (here: ${process.platform})`;
  return ulimitBlockBytes() === undefined ? 'cannot set and read back `ulimit -f` in sh' : undefined;
}

/**
 * Runs `panoptes run <config> --<output> <file> [...extra]` with its files limited to about
 * `limitBytes`, until it exits (or `timeoutMs`, then SIGKILL). `env` adds to the environment.
 */
export async function runOntoFillingDisk(options: {
  config: string;
  output: FilledOutput;
  file: string;
  limitBytes: number;
  extra?: readonly string[];
  env?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}): Promise<DiskFullRun> {
  const block = ulimitBlockBytes();
  if (block === undefined) throw new Error(diskFullUnavailable());
  const blocks = Math.max(1, Math.round(options.limitBytes / block));
  const started = performance.now();
  const child = spawn(
    'sh',
    // No core file from an ffmpeg killed by SIGXFSZ; then the limit; then node in the shell's place.
    ['-c', `ulimit -c 0; ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, path.join(REPO, 'bin/panoptes.js'), 'run', options.config, `--${options.output}`, options.file, ...(options.extra ?? [])],
    { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let failedAt: number | undefined;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (failedAt === undefined && stderr.includes('sink failed')) failedAt = performance.now();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const exitedAt = performance.now();
  const count = (pattern: RegExp) => stderr.split('\n').filter((line) => pattern.test(line)).length;
  // A device (/dev/full: a disk full from the start) is never read: it has no end.
  const isFile = existsSync(options.file) && statSync(options.file).isFile();
  const bytes = isFile ? statSync(options.file).size : 0;
  const run = {
    output: options.output,
    file: options.file,
    limitBytes: blocks * block,
    exitCode,
    failedAfterS: failedAt === undefined ? undefined : round2((failedAt - started) / 1000),
    exitAfterFailureS: failedAt === undefined ? undefined : round2((exitedAt - failedAt) / 1000),
    failureLines: count(/sink failed/),
    whileStoppingLines: count(/while stopping/),
    bytes,
    stderr,
  };
  if (options.output === 'events') {
    const text = isFile ? readFileSync(options.file, 'utf8') : '';
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const allLinesParse = lines.every((line) => {
      try {
        JSON.parse(line);
        return true;
      } catch {
        return false;
      }
    });
    return { ...run, lines: lines.length, allLinesParse, endsOnNewline: text === '' || text.endsWith('\n') };
  }
  const handed = /(\d+(?:\.\d+)?) s of video had reached ffmpeg/.exec(stderr);
  return { ...run, handedS: handed ? Number(handed[1]) : undefined, ...(isFile ? await playable(options.file) : { playsS: 0, decodesClean: false }) };
}

/** How long `file` plays (ffprobe's frames read) and whether ffmpeg decodes it to its end without an error. */
export async function playable(file: string): Promise<{ playsS: number; decodesClean: boolean }> {
  if (!existsSync(file)) return { playsS: 0, decodesClean: false };
  const exec = promisify(execFile);
  const probe = await exec(ffprobePath().path, ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames,r_frame_rate', '-of', 'json', file]).catch(() => undefined);
  const stream = probe && (JSON.parse(probe.stdout) as { streams?: { nb_read_frames?: string; r_frame_rate?: string }[] }).streams?.[0];
  const [num, den] = (stream?.r_frame_rate ?? '0/1').split('/').map(Number);
  const fps = num! / (den || 1);
  const playsS = stream && fps > 0 ? round2(Number(stream.nb_read_frames ?? 0) / fps) : 0;
  const decode = await exec(ffmpegPath().path, ['-v', 'error', '-i', file, '-f', 'null', '-']).then(
    (r) => r.stderr.trim() === '',
    () => false,
  );
  return { playsS, decodesClean: decode };
}

/** What is wrong with a run onto a filling disk, against the targets; empty when all is well. */
export function diskFullProblems(run: DiskFullRun, maxExitAfterFailureS = 5, maxVideoLostS = 1): string[] {
  const problems: string[] = [];
  const what = `--${run.output} onto ${run.limitBytes} bytes`;
  if (run.exitCode !== 1) problems.push(`${what}: exit ${run.exitCode}, not 1`);
  if (run.exitAfterFailureS === undefined) problems.push(`${what}: no failure logged`);
  else if (run.exitAfterFailureS > maxExitAfterFailureS) problems.push(`${what}: exited ${run.exitAfterFailureS} s after the failure (target ${maxExitAfterFailureS} s)`);
  if (run.failureLines !== 1) problems.push(`${what}: the failure logged ${run.failureLines} times`);
  if (run.whileStoppingLines !== 0) problems.push(`${what}: ${run.whileStoppingLines} "while stopping" lines`);
  if (run.output === 'events') {
    if (!run.allLinesParse || !run.endsOnNewline) problems.push(`${what}: the events file ends in a cut-off line`);
  } else {
    if (!run.decodesClean) problems.push(`${what}: the recording does not decode to its end without an error`);
    if (run.handedS === undefined || run.playsS === undefined || run.playsS < run.handedS - maxVideoLostS) {
      problems.push(`${what}: plays ${run.playsS} s of the ${run.handedS} s that reached ffmpeg (target within ${maxVideoLostS} s)`);
    }
  }
  return problems;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
