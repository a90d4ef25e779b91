/**
 * Source faults, injected into a running pipeline with real processes and real sockets: a
 * looping file's ffmpeg killed by SIGKILL, SIGTERM and SIGINT and suspended (a stall), an HTTP
 * camera stopped, started again on its port, and frozen. After each the stream must go through
 * the documented states and run again, `/readyz` must say not ready while it is down and ready
 * after, the other stream must never leave `running`, and the events file must hold one record
 * per processed frame: nothing lost across the restarts. Bounded: every wait has a deadline.
 *
 * The short version of the fault bench (bench/faults.bench.ts, `panoptes bench --faults`), which
 * runs configs/multi.yaml through 20 kills and 5 camera restarts and reports recovery times and
 * the other streams' frame rates.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveHttpCamera } from '../../testing/faults-camera.ts';
import { FaultRun, type Recovery } from '../../testing/faults-harness.ts';
import type { MetricsSink } from '../../nodes/sinks/metrics/metrics-sink.ts';
import { dataDir } from '../helpers/data-dir.ts';

const ROAD = 'replay/videos/ahmetozlu_vehicle_counting_input_video.mp4'; // 640x352, 24 fps
const INTEL_CARS = 'replay/videos/intel_car-detection.mp4'; // 768x432, 12.5 fps
const WAIT_MS = 20_000;

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A small live graph: the stream under test, a steady one beside it, events and metrics sinks. */
function configOf(victim: Record<string, unknown>, events: string) {
  return {
    sources: [
      { id: 'victim', type: 'ffmpeg', realtime: true, stallTimeoutMs: 1000, startTimeoutMs: 5000, ...victim },
      { id: 'steady', type: 'ffmpeg', uri: INTEL_CARS, realtime: true, loop: true, resize: { width: 320 } },
    ],
    pipeline: [],
    sinks: [
      { type: 'events', path: events },
      { type: 'metrics', port: 0 },
    ],
  };
}

async function readyz(run: FaultRun): Promise<{ status: number; body: { ready: boolean; notRunning?: string[] } }> {
  const sink = run.graph.sinks.find((s): s is MetricsSink => 'url' in s);
  const response = await fetch(`${sink!.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; notRunning?: string[] } };
}

/** Every record of the events file, per stream, in file order. */
function recordsOf(file: string): Map<string, number[]> {
  const seqs = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as { type?: string; stream?: string; seq?: number };
    if (record.type !== 'frame' || record.stream === undefined || record.seq === undefined) continue;
    seqs.set(record.stream, [...(seqs.get(record.stream) ?? []), record.seq]);
  }
  return seqs;
}

/** After the run: nothing lost, seq growing across restarts, the steady stream never disturbed. */
async function expectCleanAftermath(run: FaultRun, events: string): Promise<void> {
  const outcomes = await run.stop();
  expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined]);
  const records = recordsOf(events);
  for (const stats of run.metrics.snapshot()) {
    const seqs = records.get(stats.stream) ?? [];
    expect(seqs.length, `${stats.stream}: one events record per processed frame`).toBe(stats.processed);
    for (let k = 1; k < seqs.length; k++) expect(seqs[k]!).toBeGreaterThan(seqs[k - 1]!);
  }
  const steady = run.metrics.snapshot().find((s) => s.stream === 'steady')!;
  expect(steady).toMatchObject({ reconnects: 0, stalls: 0 });
  expect(run.metrics.seen.filter((s) => s.stream === 'steady').map((s) => s.state)).toEqual(['starting', 'running', 'ended']);
}

function report(recoveries: readonly Recovery[]): void {
  for (const r of recoveries) process.stderr.write(`  fault: ${r.fault}: running again after ${Math.round(r.recoveryMs)} ms (${r.states.join(' → ')})\n`);
}

describe('source faults', () => {
  it('a source that died and may not come back fails its stream, never a clean end: a killed plain file, a camera given up on', async () => {
    const camera = new LiveHttpCamera(path.join(dataDir(), ROAD));
    await camera.start();
    const run = await FaultRun.start(
      {
        sources: [
          { id: 'plain', type: 'ffmpeg', uri: ROAD, realtime: true, resize: { width: 320 } },
          { id: 'camera', type: 'ffmpeg', uri: camera.url, resize: { width: 320 }, reconnect: { initialDelayMs: 100, jitter: 0, giveUpAfterTries: 2 } },
        ],
        pipeline: [],
        sinks: [],
      },
      { dataDir: dataDir() },
    );
    try {
      await run.waitFor(() => run.metrics.readiness().ready, WAIT_MS, 'both streams running');
      process.kill(run.currentPid('plain')!, 'SIGKILL');
      await camera.stop();
      const outcomes = await Promise.race([
        run.outcomes,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the streams did not end')), WAIT_MS)),
      ]);
      expect(outcomes.map((o) => [o.stream, o.error?.message.split('\n')[0]])).toEqual([
        ['plain', `ffmpeg failed reading ${ROAD}: was killed with signal SIGKILL; last lines of its stderr: (nothing on stderr)`],
        ['camera', expect.stringMatching(/^gave up after 2 restarts without a frame \(giveUpAfterTries 2\); the last failure: ffmpeg failed reading http/)],
      ]);
      expect(run.metrics.seen.filter((s) => s.stream === 'camera').map((s) => s.state)).toEqual(['starting', 'running', 'reconnecting', 'failed']);
      expect(run.metrics.stateOf('plain')).toBe('failed');
      expect(run.lines.filter((line) => /stream (plain|camera) ended/.test(line))).toEqual([]);
    } finally {
      await run.stop();
      await camera.stop();
    }
  }, 60_000);

  it("a looping file's ffmpeg killed three ways and suspended: restarted each time, readyz follows, nothing lost", async () => {
    const events = path.join(scratch, 'kills.jsonl');
    const run = await FaultRun.start(
      configOf({ uri: ROAD, loop: true, resize: { width: 320 }, reconnect: { initialDelayMs: 200, jitter: 0.2 } }, events),
      { dataDir: dataDir() },
    );
    const recoveries: Recovery[] = [];
    try {
      await run.waitFor(() => run.metrics.readiness().ready, WAIT_MS, 'both streams running');
      expect(await readyz(run)).toMatchObject({ status: 200, body: { ready: true } });

      for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
        const seen: { status: number; notRunning?: string[] }[] = [];
        recoveries.push(
          await run.faultAndRecover(
            'victim',
            `ffmpeg killed with ${signal}`,
            async () => {
              const pid = run.currentPid('victim')!;
              process.kill(pid, signal);
              await run.waitFor(() => run.metrics.stateOf('victim') !== 'running', WAIT_MS, 'victim down');
              const answer = await readyz(run);
              seen.push({ status: answer.status, ...(answer.body.notRunning ? { notRunning: answer.body.notRunning } : {}) });
            },
            WAIT_MS,
          ),
        );
        expect(seen).toEqual([{ status: 503, notRunning: ['victim'] }]);
        expect(recoveries.at(-1)!.states).toEqual(['reconnecting', 'running']);
        expect((await readyz(run)).status).toBe(200);
      }

      // A suspended ffmpeg is a stall: detected after stallTimeoutMs, then killed and restarted.
      recoveries.push(await run.faultAndRecover('victim', 'ffmpeg suspended (SIGSTOP)', () => void process.kill(run.currentPid('victim')!, 'SIGSTOP'), WAIT_MS));
      expect(recoveries.at(-1)!.states).toEqual(['stalled', 'reconnecting', 'running']);
      expect(run.metrics.snapshot().find((s) => s.stream === 'victim')).toMatchObject({ reconnects: 4, stalls: 1 });
      expect(run.lines.some((line) => /victim:source\].*stalled: no frame for 1000 ms; restarting it/.test(line))).toBe(true);
    } finally {
      report(recoveries);
      await expectCleanAftermath(run, events);
    }
  }, 120_000);

  it('an HTTP camera stopped and started again, then frozen: reconnected with backoff each time, nothing lost', async () => {
    const camera = new LiveHttpCamera(path.join(dataDir(), ROAD));
    await camera.start();
    const events = path.join(scratch, 'camera.jsonl');
    const run = await FaultRun.start(
      configOf({ uri: camera.url, resize: { width: 320 }, reconnect: { initialDelayMs: 200, maxDelayMs: 800, jitter: 0.2 } }, events),
      { dataDir: dataDir() },
    );
    const recoveries: Recovery[] = [];
    try {
      await run.waitFor(() => run.metrics.readiness().ready, WAIT_MS, 'both streams running');
      for (let restart = 1; restart <= 2; restart++) {
        recoveries.push(
          await run.faultAndRecover(
            'victim',
            `camera down 1.5 s (restart ${restart})`,
            async () => {
              await camera.stop();
              await new Promise((resolve) => setTimeout(resolve, 1500));
              const answer = await readyz(run);
              expect(answer).toMatchObject({ status: 503, body: { ready: false, notRunning: ['victim'] } });
              await camera.start();
            },
            WAIT_MS,
          ),
        );
        // Refused connections meanwhile: several restarts, each waiting longer.
        expect(recoveries.at(-1)!.states.at(0)).toBe('reconnecting');
        expect(recoveries.at(-1)!.states.at(-1)).toBe('running');
      }
      const waits = run.lines.filter((line) => line.includes('victim:source') && line.includes('reconnecting in')).map((line) => Number(/reconnecting in (\d+) ms/.exec(line)![1]));
      expect(Math.max(...waits)).toBeGreaterThan(200); // backed off beyond the first wait
      expect(Math.max(...waits)).toBeLessThanOrEqual(800); // never past the cap

      recoveries.push(
        await run.faultAndRecover(
          'victim',
          'camera frozen',
          async () => {
            camera.freeze();
            await run.waitFor(() => run.metrics.seen.some((s) => s.stream === 'victim' && s.state === 'stalled'), WAIT_MS, 'the stall to be detected');
            camera.thaw();
          },
          WAIT_MS,
        ),
      );
      expect(recoveries.at(-1)!.states.slice(0, 2)).toEqual(['stalled', 'reconnecting']);
      expect(run.metrics.snapshot().find((s) => s.stream === 'victim')!.stalls).toBeGreaterThanOrEqual(1);
    } finally {
      report(recoveries);
      await camera.stop();
      await expectCleanAftermath(run, events);
    }
  }, 120_000);
});
