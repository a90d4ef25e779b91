/**
 * The whole graph through the real CLI, as a user runs it: the default config on the real
 * dashcam clip and the real models, with a WebSocket viewer client and the page in Chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BENCH_USAGE } from '../../cli/bench-command.ts';
import { EVAL_USAGE } from '../../cli/eval-command.ts';
import { EVAL_INSTANCE_USAGE } from '../../cli/eval-instance-command.ts';
import { EVAL_MOT_USAGE } from '../../cli/eval-mot-command.ts';
import { EVAL_SEGMENTATION_USAGE } from '../../cli/eval-segmentation-command.ts';
import { PANOPTES_USAGE } from '../../cli/main.ts';
import { RUN_USAGE } from '../../cli/run-command.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { launchChromium } from '../helpers/browser.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves with the viewer's URL once the pipeline has started serving it. */
  readonly viewerUrl: Promise<string>;
}

function panoptes(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/panoptes.js'), ...args], {
    cwd: REPO,
    env: { ...process.env, PANOPTES_DATA: dataDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let announce: (url: string) => void = () => {};
  const viewerUrl = new Promise<string>((resolve) => (announce = resolve));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const match = /viewer on (http:\/\/[\d.:]+)/.exec(stderr);
    if (match) announce(match[1]!);
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exit, viewerUrl };
}

describe('panoptes run configs/dashcam.yaml', () => {
  it('processes 20 frames of the dashcam clip, writes their events and serves them live', async () => {
    const events = path.join(scratch, 'events.jsonl');
    const run = panoptes([
      'run', 'configs/dashcam.yaml', '--no-realtime', '--max-frames', '20', '--events', events, '--port', '0',
    ]);

    // A viewer client connects as soon as the server is up and collects frame messages.
    const frames: { header: { seq: number; counts: Record<string, number> }; jpeg: Buffer }[] = [];
    const url = await run.viewerUrl;
    const client = new WebSocket(url.replace('http', 'ws') + '/ws');
    client.on('open', () => client.send(JSON.stringify({ type: 'subscribe', topics: ['video'] })));
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const headerLength = data.readUInt32BE(0);
      frames.push({
        header: JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')),
        jpeg: data.subarray(4 + headerLength),
      });
    });

    const { code, stderr } = await run.exit;
    client.close();
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('model espnetv2-s1.5 runs on cpu');
    expect(stderr).toMatch(/dashcam: 20 frames processed of 20 decoded/);

    const records = readFileSync(events, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as FrameRecord);
    expect(records.map((r) => r.seq)).toEqual([...Array(20).keys()]);
    for (const r of records) {
      expect(r).toMatchObject({ stream: 'dashcam', width: 960, height: 540, ptsMs: r.seq * 40 });
      // Road is the largest stuff segment of a highway frame; every segment has the promised fields.
      const road = r.segments.find((s) => s.className === 'road');
      expect(road?.isThing).toBe(false);
      expect(road!.area).toBeGreaterThan(0.3 * 960 * 540);
      for (const s of r.segments) {
        const tracked = s.trackId === undefined ? [] : ['trackId', 'trackState'];
        // Things say where their mask came from (here always the instance model's own).
        const thing = s.isThing ? ['maskSource'] : [];
        expect(Object.keys(s).sort()).toEqual(['area', 'bbox', 'className', 'id', 'isThing', 'score', ...tracked, ...thing].sort());
        if (s.isThing) expect((s as { maskSource?: string }).maskSource).toBe('model');
      }
      expect(r.counts.car ?? 0).toBe(r.segments.filter((s) => s.isThing && s.className === 'car').length);
    }
    // The sedan overtaking on the left (x < 200, around y 290-370) is found in nearly every frame.
    const withSedan = records.filter((r) =>
      r.segments.some((s) => s.className === 'car' && s.isThing && s.bbox[0] < 200 && s.bbox[1] > 250 && s.bbox[1] < 350),
    );
    expect(withSedan.length).toBeGreaterThanOrEqual(16);
    // ...and keeps one track id once the tracker has confirmed it.
    const sedanIds = withSedan.flatMap((r) =>
      r.segments.filter((s) => s.className === 'car' && s.bbox[0] < 200 && s.trackState === 'confirmed').map((s) => s.trackId),
    );
    expect(sedanIds.length).toBeGreaterThanOrEqual(12);
    expect(new Set(sedanIds).size).toBe(1);

    expect(frames.length).toBeGreaterThan(0);
    const last = frames[frames.length - 1]!;
    expect(last.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(last.header.counts.car).toBeGreaterThanOrEqual(1);
  });

  it('shows the live overlay in the browser page', async () => {
    // The browser first: when it cannot start, no run is left behind working for nobody.
    const browser = await launchChromium();
    const run = panoptes(['run', 'configs/dashcam.yaml', '--port', '0']);
    try {
      const url = await run.viewerUrl;
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { __panoptes: { framesDrawn: number } }).__panoptes.framesDrawn >= 3, undefined, {
        timeout: 60_000,
      });
      // The drawn frame is a real picture: many distinct colours, not a blank canvas.
      const colours = await page.evaluate(() => {
        const canvas = document.querySelector('canvas')!;
        const context = canvas.getContext('2d')!;
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        return seen.size;
      });
      expect(colours).toBeGreaterThan(100);
      await mkdir(path.join(REPO, 'out'), { recursive: true });
      await page.screenshot({ path: path.join(REPO, 'out/dashcam-page.png') });
    } finally {
      await browser.close();
      run.child.kill('SIGINT');
    }
    const { code, stderr } = await run.exit;
    // SIGINT stops the pipeline gracefully: the stream ends, the process exits 0.
    expect(stderr).toContain('SIGINT: stopping');
    expect(code, stderr).toBe(0);
  });
});

describe('bad input through the CLI', () => {
  it('a missing clip exits non-zero with the path and the fix', async () => {
    const { code, stderr } = await panoptes(['run', 'configs/dashcam.yaml', '--source', 'no/such/clip.mp4']).exit;
    expect(code).toBe(2);
    expect(stderr).toMatch(/--source: video not found: .*no\/such\/clip\.mp4/);
  });

  it('a broken config exits 2 naming the key', async () => {
    const { code, stderr } = await panoptes(['run', 'configs/dashcam.yaml', '--max-frames', 'many']).exit;
    expect(code).toBe(2);
    expect(stderr).toContain('--max-frames expects a whole number, got "many"');
  });
});

/** Each command as typed, with the usage it prints. */
const COMMANDS: readonly { readonly args: readonly string[]; readonly usage: string }[] = [
  { args: ['run', 'configs/dashcam.yaml'], usage: RUN_USAGE },
  { args: ['eval', 'mot'], usage: EVAL_MOT_USAGE },
  { args: ['eval', 'semantic'], usage: EVAL_SEGMENTATION_USAGE.semantic },
  { args: ['eval', 'panoptic'], usage: EVAL_SEGMENTATION_USAGE.panoptic },
  { args: ['eval', 'video-panoptic'], usage: EVAL_SEGMENTATION_USAGE['video-panoptic'] },
  { args: ['eval', 'instance'], usage: EVAL_INSTANCE_USAGE },
  { args: ['bench'], usage: BENCH_USAGE },
  // What `npm run bench` runs.
  { args: ['bench', '--all'], usage: BENCH_USAGE },
];

// Each spawns the real CLI and fails before any model or clip is loaded, so they can overlap.
describe.concurrent('usage mistakes through the CLI: exit 2, the message, then the usage of that command on stderr', () => {
  async function expectUsageMistake(args: readonly string[], usage: string, message: string | RegExp): Promise<void> {
    const { code, stdout, stderr } = await panoptes([...args]).exit;
    expect(code, stderr).toBe(2);
    expect(stdout).toBe('');
    const [first, ...rest] = stderr.split('\n');
    expect(first).toMatch(/^error \[panoptes\] /);
    if (typeof message === 'string') expect(first).toContain(message);
    else expect(first).toMatch(message);
    // The usage follows the one-line message, whole.
    expect(rest.join('\n')).toBe(`\n${usage}\n`);
  }

  for (const { args, usage } of COMMANDS) {
    const takesNumbers = args[0] === 'run';
    it(`panoptes ${args.join(' ')} --bogus`, () => expectUsageMistake([...args, '--bogus'], usage, 'unknown option --bogus'));
    // `npm run bench` reads its options as `panoptes bench` does: --bogus is enough to show it gets there.
    if (args.includes('--all')) continue;
    it(`panoptes ${args.join(' ')} --port -1`, () =>
      expectUsageMistake([...args, '--port', '-1'], usage, takesNumbers ? '--port expects a whole number from 0 to 65535, got "-1"' : 'unknown option --port'));
    it(`panoptes ${args.join(' ')} --max-frames -1`, () =>
      expectUsageMistake([...args, '--max-frames', '-1'], usage, takesNumbers ? '--max-frames expects a whole number, got "-1"' : 'unknown option --max-frames'));
  }

  it('panoptes --bogus, and panoptes with no command', async () => {
    await expectUsageMistake(['--bogus'], PANOPTES_USAGE, 'unknown command "--bogus"; expected one of run, eval, bench');
    await expectUsageMistake([], PANOPTES_USAGE, 'expected a command: run, eval, bench');
  });

  it('panoptes eval --bogus, and panoptes eval with no metric', async () => {
    await expectUsageMistake(['eval', '--bogus'], EVAL_USAGE, 'unknown metric "--bogus"');
    await expectUsageMistake(['eval'], EVAL_USAGE, 'expected a metric: mot, semantic, panoptic, video-panoptic');
  });

  // The checks each command makes after parsing reach the user the same way.
  it('a bad value, a missing option, a missing or extra argument', async () => {
    await expectUsageMistake(['bench', '--frames', '1'], BENCH_USAGE, '--frames expects a whole number of at least 2, got "1"');
    await expectUsageMistake(['bench', '--live'], BENCH_USAGE, '--live goes with --soak');
    await expectUsageMistake(['eval', 'mot', '--pred', 'p'], EVAL_MOT_USAGE, '--gt is required');
    await expectUsageMistake(['run'], RUN_USAGE, 'expected exactly one config file, got none');
    await expectUsageMistake(['eval', 'panoptic', 'extra'], EVAL_SEGMENTATION_USAGE.panoptic, 'expected no arguments besides options, got "extra"');
  });
});

describe.concurrent('--help through the CLI: exit 0, the usage on stdout', () => {
  const helps: readonly { readonly args: readonly string[]; readonly usage: string }[] = [
    { args: [], usage: PANOPTES_USAGE },
    { args: ['eval'], usage: EVAL_USAGE },
    ...COMMANDS.filter(({ args }) => !args.includes('--all')),
  ];
  for (const { args, usage } of helps) {
    it(`panoptes ${args.join(' ')} --help`, async () => {
      const { code, stdout, stderr } = await panoptes([...args, '--help']).exit;
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(usage + '\n');
      expect(stderr).toBe('');
    });
  }
});
