/**
 * `panoptes run` as a user meets its failures, through the real CLI in a real process: output
 * paths that cannot be written, Ctrl-C in a terminal while recording, a recorder that dies
 * mid-run, an MPEG-TS input, a CUDA request on a machine without CUDA.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegPath, ffprobePath } from '../../servers/ffmpeg-binary.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-run-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs `panoptes <args>` as a terminal runs a foreground job: in a process group of its own,
 * which is what Ctrl-C signals as a whole. `stderrSoFar()` is what it has logged until now.
 */
function panoptes(args: readonly string[]) {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/panoptes.js'), ...args], {
    cwd: REPO,
    env: { ...process.env, PANOPTES_DATA: dataDir() },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return {
    child,
    exit,
    stderrSoFar: () => stderr,
    /** Ctrl-C: SIGINT to every process of the group. */
    interruptGroup: () => process.kill(-child.pid!, 'SIGINT'),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** What ffprobe says of a recording: its streams' types and the container's duration. */
function probeRecording(file: string): { streams: string[]; durationS: number } {
  const json = execFileSync(ffprobePath().path, ['-v', 'error', '-show_entries', 'stream=codec_type:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const parsed = JSON.parse(json) as { streams: { codec_type: string }[]; format: { duration?: string } };
  return { streams: parsed.streams.map((s) => s.codec_type), durationS: Number(parsed.format.duration ?? 0) };
}

describe('panoptes run: output paths are checked before anything loads', () => {
  it('exits 1 naming the flag, the path and what is wrong', async () => {
    const underFile = path.join(scratch, 'plain.txt');
    writeFileSync(underFile, 'a file, not a folder');
    const cases: [string[], string][] = [
      [['--events', `${underFile}/x.jsonl`], `--events ${underFile}/x.jsonl: cannot create ${underFile}/x.jsonl: ${underFile} is not a directory`],
      [['--record', scratch], `--record ${scratch}: cannot write ${scratch}: it is a directory; give a file name`],
      [['--mot-out', `${underFile}/tracks.txt`], `--mot-out ${underFile}/tracks.txt: cannot create ${underFile}/tracks.txt: ${underFile} is not a directory`],
      [['--save-panoptic', underFile], `--save-panoptic ${underFile}: cannot use ${underFile} as a folder: it is a file`],
      [['--events', '/proc/panoptes/events.jsonl'], '--events /proc/panoptes/events.jsonl: cannot create /proc/panoptes/events.jsonl: cannot make the folder /proc/panoptes'],
    ];
    for (const [flags, message] of cases) {
      const { code, stderr } = await panoptes(['run', 'configs/dashcam.yaml', ...flags]).exit;
      expect(code, stderr).toBe(1);
      expect(stderr).toContain(message);
      // Refused before the models load.
      expect(stderr).not.toContain('runs on cpu');
    }
  });

  it('a config path that is a folder is a config mistake: exit 2 with the path', async () => {
    const { code, stderr } = await panoptes(['run', 'configs']).exit;
    expect(code).toBe(2);
    expect(stderr).toContain('configs is a folder, not a config file');
  });
});

describe('panoptes run --record and Ctrl-C in a terminal', () => {
  it.each([3, 10])('leaves a playable mp4 when the whole process group gets SIGINT %i s into the recording', async (seconds) => {
    const file = path.join(scratch, `ctrl-c-${seconds}s.mp4`);
    const run = panoptes(['run', 'configs/dashcam.yaml', '--record', file]);
    await until(() => run.stderrSoFar().includes(`recording dashcam to ${file}`), 'the recording to start');
    await sleep(seconds * 1000);
    run.interruptGroup();
    const { stderr } = await run.exit;
    const recording = probeRecording(file);
    console.log(`Ctrl-C at ${seconds} s: ${JSON.stringify(recording)}`);
    expect(recording.streams, stderr).toContain('video');
    expect(recording.durationS).toBeGreaterThan(0);
  });
});

describe('panoptes run: a sink that fails mid-run', () => {
  it('is logged once when it fails, and stops the run: exit 1', async () => {
    const file = path.join(scratch, 'dies.mp4');
    const run = panoptes(['run', 'configs/dashcam.yaml', '--no-realtime', '--max-frames', '40', '--record', file]);
    await until(() => run.stderrSoFar().includes(`recording dashcam to ${file}`), 'the recording to start');
    await sleep(1000);
    // The recorder's ffmpeg: the one of the group writing this file.
    const recorder = execFileSync('pgrep', ['-f', `libx264.*${path.basename(file)}`], { encoding: 'utf8' }).trim().split('\n')[0]!;
    process.kill(Number(recorder), 'SIGKILL');
    await until(() => run.stderrSoFar().includes('ffmpeg stopped mid-run'), 'the failure to be logged');
    const { code, stderr } = await run.exit;
    expect(stderr).toMatch(/sink failed: record: recording .*dies\.mp4: ffmpeg stopped mid-run \(signal SIGKILL\).*; stopping the run/);
    expect(stderr.split('\n').filter((line) => line.includes('sink failed'))).toHaveLength(1);
    expect(stderr).not.toContain('while stopping');
    expect(code).toBe(1);
  });
});

describe('panoptes run on an MPEG-TS clip, asking for CUDA on a machine without it', () => {
  it('decodes the clip end to end, and logs the CUDA fallback in words, without terminal colour codes', async () => {
    const clip = path.join(scratch, 'dashcam.ts');
    execFileSync(ffmpegPath().path, ['-v', 'error', '-y', '-i', path.join(dataDir(), 'replay/videos/solidWhiteRight.mp4'), '-t', '2', '-c', 'copy', clip]);
    const events = path.join(scratch, 'ts-events.jsonl');
    const { code, stderr } = await panoptes(['run', 'configs/dashcam.yaml', '--source', clip, '--no-realtime', '--max-frames', '10', '--events', events, '--ep', 'cuda']).exit;
    expect(code, stderr).toBe(0);
    const records = readFileSync(events, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { seq: number; width: number });
    expect(records.map((r) => r.seq)).toEqual([...Array(10).keys()]);
    expect(records[0]!.width).toBe(960);
    expect(stderr).toContain('960x540 @ 25 fps');
    // eslint-disable-next-line no-control-regex
    expect(stderr).not.toMatch(/\u001b\[/);
    if (!stderr.includes('runs on cuda')) expect(stderr).toMatch(/cuda unavailable \(.+\).*falling back/);
  });
});
