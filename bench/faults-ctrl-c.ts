/**
 * Ctrl-C in a terminal during a recording, at full length (the tests stop at 3 and 10 s): two
 * `panoptes run <config> --record` at once, each in a process group of its own as a terminal's
 * foreground job; after the same time one gets SIGINT to its whole group (Ctrl-C: the recorder's
 * ffmpeg gets it too, unless it runs in a group of its own), the other to the node process alone
 * (`kill -INT`), the case that always worked. Side by side, so both share the machine's load and
 * their recordings' lengths can be compared. Each recording is probed and decoded to the end.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '../servers/ffmpeg-binary.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/panoptes.js', import.meta.url));
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

export type InterruptTarget = 'process group' | 'node alone';

export interface InterruptedRecording {
  readonly target: InterruptTarget;
  readonly atSeconds: number;
  readonly exitCode: number | null;
  /** The container's duration, as ffprobe reads it; 0 when there is no file or no video. */
  readonly videoSeconds: number;
  readonly videoFrames: number;
  /** ffmpeg decoded the whole file without an error. */
  readonly playable: boolean;
  /** What went wrong, when the recording is not playable or the run did not stop cleanly. */
  readonly problem?: string;
}

/** Starts a recording run as a terminal's foreground job; resolves once it records. */
async function startRecording(config: string, file: string, dataDir: string) {
  const child = spawn(process.execPath, [CLI, 'run', config, '--port', '0', '--record', file], {
    env: { ...process.env, PANOPTES_DATA: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!stderr.includes('recording ')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`panoptes run ${config} did not start recording: ${stderr.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid!, exited, stderr: () => stderr };
}

async function inspect(file: string): Promise<Pick<InterruptedRecording, 'videoSeconds' | 'videoFrames' | 'playable' | 'problem'>> {
  try {
    const { stdout } = await run(ffprobePath().path, ['-v', 'error', '-count_packets', '-select_streams', 'v', '-show_entries', 'stream=nb_read_packets:format=duration', '-of', 'json', file]);
    const probed = JSON.parse(stdout) as { streams?: { nb_read_packets?: string }[]; format?: { duration?: string } };
    const videoFrames = Number(probed.streams?.[0]?.nb_read_packets ?? 0);
    const videoSeconds = Number(probed.format?.duration ?? 0);
    const { stderr } = await run(ffmpegPath().path, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    const playable = videoFrames > 0 && stderr.trim() === '';
    return { videoSeconds, videoFrames, playable, ...(playable ? {} : { problem: stderr.trim() || 'no video frames' }) };
  } catch (err) {
    return { videoSeconds: 0, videoFrames: 0, playable: false, problem: (err as Error).message.split('\n').slice(0, 3).join(' ') };
  }
}

/**
 * Records `config` twice at once and interrupts both `atSeconds` after they started recording:
 * one by its process group, one by its node process alone.
 */
export async function interruptRecordings(config: string, atSeconds: number, dataDir: string): Promise<InterruptedRecording[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'panoptes-ctrl-c-'));
  try {
    const targets: InterruptTarget[] = ['process group', 'node alone'];
    const files = targets.map((_, i) => path.join(dir, `recording-${i}.mp4`));
    const starting = files.map((file) => startRecording(config, file, dataDir));
    const started = await Promise.allSettled(starting);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // One did not start: the other must not be left recording.
      for (const r of started) if (r.status === 'fulfilled') process.kill(-r.value.pid, 'SIGKILL');
      throw failed.reason;
    }
    const runs = started.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startRecording>>>).value);
    await new Promise((resolve) => setTimeout(resolve, atSeconds * 1000));
    process.kill(-runs[0]!.pid, 'SIGINT');
    process.kill(runs[1]!.pid, 'SIGINT');
    return await Promise.all(
      runs.map(async (r, i) => {
        const exitCode = await Promise.race([r.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), STOP_TIMEOUT_MS))]);
        if (exitCode === null) process.kill(-r.pid, 'SIGKILL');
        const seen = await inspect(files[i]!);
        const stopProblem = exitCode === 0 ? undefined : `exit ${exitCode ?? `none within ${STOP_TIMEOUT_MS / 1000} s`}: ${r.stderr().slice(-300)}`;
        const problem = [seen.problem, stopProblem].filter(Boolean).join('; ');
        return { target: targets[i]!, atSeconds, exitCode, ...seen, ...(problem ? { problem } : {}) };
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
