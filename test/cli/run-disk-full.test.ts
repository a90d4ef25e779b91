/**
 * A disk that fills under `panoptes run --events` and `--record`, through the real CLI in a real
 * process (testing/faults-disk.ts: the run's files limited with RLIMIT_FSIZE, no privilege
 * needed): the run stops with exit 1 within 5 s of the failure, the failure is logged once, the
 * events file ends on its last whole line and the recording plays to within a second of what
 * reached ffmpeg. Then the same failure in a sink marked `optional: true`: the run goes on, the
 * failure counted in /metrics and shown in /readyz. A light graph (motion, no model) at 320 px.
 * The longer version is in the fault bench (`panoptes bench --faults`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskFullProblems, diskFullUnavailable, runOntoFillingDisk } from '../../testing/faults-disk.ts';
import { FaultRun } from '../../testing/faults-harness.ts';
import type { MetricsSink } from '../../nodes/sinks/metrics/metrics-sink.ts';
import { dataDir } from '../helpers/data-dir.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-disk-full-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CLIP = 'replay/videos/solidWhiteRight.mp4'; // 960x540, 25 fps
const config = path.join(scratch, 'light.yaml');
writeFileSync(
  config,
  [
    'sources:',
    `  - { id: cam, type: ffmpeg, uri: ${CLIP}, realtime: true, loop: true, resize: { width: 320 } }`,
    'pipeline:',
    '  - { type: motion-segmentation }',
    '  - { type: overlay }',
    'sinks: []',
    '',
  ].join('\n'),
);

const unavailable = diskFullUnavailable();

describe.skipIf(unavailable !== undefined)(`panoptes run onto a disk that fills${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('--events: exit 1 within 5 s of the failure, logged once, every line of the file whole', async () => {
    const run = await runOntoFillingDisk({ config, output: 'events', file: path.join(scratch, 'events.jsonl'), limitBytes: 24 * 1024, env: { PANOPTES_DATA: dataDir() } });
    const { stderr, ...figures } = run;
    console.log(`--events onto a filling disk: ${JSON.stringify(figures)}`);
    expect(diskFullProblems(run), stderr).toEqual([]);
    expect(stderr).toMatch(/sink failed: events: .*events\.jsonl: cannot write: EFBIG.*; it ends at its last whole record \(\d+ bytes\); stopping the run/);
    expect(run.lines).toBeGreaterThan(10);
  });

  // About 10 s of video: in its first seconds the recorder's ffmpeg is still catching up with
  // its start on a loaded machine, and what it has not encoded yet is what a failure loses.
  it('--record: exit 1 within 5 s of the failure, the mp4 plays to within a second of what reached ffmpeg', async () => {
    const run = await runOntoFillingDisk({ config, output: 'record', file: path.join(scratch, 'overlay.mp4'), limitBytes: 256 * 1024, env: { PANOPTES_DATA: dataDir() } });
    const { stderr, ...figures } = run;
    console.log(`--record onto a filling disk: ${JSON.stringify(figures)}`);
    expect(diskFullProblems(run), stderr).toEqual([]);
    expect(stderr).toMatch(/sink failed: record: recording .*overlay\.mp4: ffmpeg stopped mid-run .*the file keeps its whole fragments/);
    expect(run.playsS).toBeGreaterThan(1);
  });

  it('--events /dev/full (a disk full from the start): exit 1 at once, logged once', async () => {
    const run = await runOntoFillingDisk({ config, output: 'events', file: '/dev/full', limitBytes: 1024 * 1024, env: { PANOPTES_DATA: dataDir() } });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.exitAfterFailureS).toBeLessThan(5);
    expect(run.failureLines).toBe(1);
    expect(run.stderr).toContain('sink failed: events: /dev/full: cannot write: ENOSPC');
  });
});

describe('a sink marked optional whose disk fails', () => {
  it('leaves the run going: the failure logged once, counted in /metrics, shown in /readyz as degraded', async () => {
    const events = path.join(scratch, 'kept.jsonl');
    const run = await FaultRun.start(
      {
        sources: [{ id: 'cam', type: 'ffmpeg', uri: CLIP, realtime: true, loop: true, resize: { width: 160 } }],
        pipeline: [],
        sinks: [
          { type: 'events', path: '/dev/full', optional: true },
          { type: 'events', path: events },
          { type: 'metrics', port: 0 },
        ],
      },
      { dataDir: dataDir() },
    );
    try {
      await run.waitFor(() => run.metrics.sinkFailures.length > 0, 10_000, 'the optional sink to fail');
      const atFailure = run.metrics.processedOf('cam');
      await run.waitFor(() => run.metrics.processedOf('cam') > atFailure + 10, 10_000, 'frames after the failure');
      const sink = run.graph.sinks.find((s): s is MetricsSink => 'url' in s)!;
      const readyz = (await (await fetch(`${sink.url}/readyz`)).json()) as { ready: boolean; degraded?: boolean; failedSinks?: { sink: string; optional: boolean }[] };
      expect(readyz).toMatchObject({ ready: true, degraded: true, failedSinks: [{ sink: 'events', optional: true }] });
      const metrics = await (await fetch(`${sink.url}/metrics`)).text();
      expect(metrics).toContain('panoptes_sink_errors_total{sink="events",optional="true"} 1');
    } finally {
      const outcomes = await run.stop();
      expect(outcomes.map((o) => o.error)).toEqual([undefined]);
    }
    expect(run.lines.filter((line) => line.includes('sink failed')).length).toBe(1);
    expect(run.lines.find((line) => line.includes('sink failed'))).toMatch(/events: \/dev\/full: cannot write: ENOSPC.*it is optional: the run goes on without it/);
    expect(run.lines.some((line) => line.includes('while stopping'))).toBe(false);
    // The other events file, on a good disk, has every frame.
    const lines = readFileSync(events, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(run.metrics.processedOf('cam'));
  });

  it('without optional, the graph stops itself within a second of the failure', async () => {
    const run = await FaultRun.start(
      {
        sources: [{ id: 'cam', type: 'ffmpeg', uri: CLIP, realtime: true, loop: true, resize: { width: 160 } }],
        pipeline: [],
        sinks: [{ type: 'events', path: '/dev/full' }],
      },
      { dataDir: dataDir() },
    );
    await run.waitFor(() => run.metrics.sinkFailures.length > 0, 10_000, 'the sink to fail');
    const failedAt = performance.now();
    await run.outcomes;
    const stoppedMs = performance.now() - failedAt;
    await run.stop();
    console.log(`a failed sink stopped the graph ${Math.round(stoppedMs)} ms after its failure was seen`);
    expect(stoppedMs).toBeLessThan(1000);
    expect(run.metrics.sinkFailures).toEqual([{ sink: 'events', reason: expect.stringMatching(/ENOSPC/), optional: false }]);
    expect(run.lines.filter((line) => line.includes('sink failed')).length).toBe(1);
  });
});
