/** The benchmark's tables for people (`--json` prints the same figures as one object). */
import type { AccuracyResult } from './accuracy.bench.ts';
import type { ComponentBenches } from './component-benches.ts';
import { formatBackgroundComparison } from './background-compare.ts';
import { formatCameraMotionComparison } from './camera-motion-compare.ts';
import { formatMotionBench } from './motion.bench.ts';
import type { BenchResult } from './pipeline-bench.ts';
import type { PhaseFigures } from './pipeline-phase.ts';
import type { SoakResult } from './soak.ts';

const num = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);

function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      (indent + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).trimEnd(),
    )
    .join('\n');
}

function drops(d: Readonly<Record<string, number>>): string {
  const parts = Object.entries(d).map(([where, n]) => `${where} ${n}`);
  return parts.length ? parts.join(', ') : '0';
}

function phaseLines(p: PhaseFigures): string[] {
  const lines: string[] = [];
  lines.push(
    table([
      ['stream', 'frames', 'seconds', 'frames/s', 'steady', 'in order', 'drops', 'errors'],
      ...p.perStream.map((s) => [
        s.stream,
        String(s.frames),
        num(s.seconds, 2),
        num(s.fps, 2),
        num(s.steadyFps, 2),
        s.inOrder ? 'yes' : 'NO',
        drops(s.drops),
        String(s.errors),
      ]),
      ...(p.perStream.length > 1
        ? [['all streams', String(p.frames), num(p.seconds, 2), num(p.fps, 2), num(p.steadyFps, 2), p.inOrder ? 'yes' : 'NO', String(p.drops), String(p.errors)]]
        : []),
    ]),
  );
  if (p.fairness) {
    const counts = Object.entries(p.fairness.framesPerStream).map(([s, n]) => `${s} ${n}`).join(', ');
    lines.push(
      `  while all streams ran (${num(p.fairness.windowSeconds, 1)} s): ${counts}; min/max ${num(p.fairness.minOverMax, 3)}` +
        (p.fairness.minOverMax >= 0.8 ? ' (no stream starves)' : ' (UNEVEN)'),
    );
  }
  lines.push(
    `  latency decode -> end of graph: p50 ${num(p.latency.p50, 0)} ms, p95 ${num(p.latency.p95, 0)} ms ` +
      `(inside nodes p50 ${num(p.latency.nodeSumP50, 0)} ms, waiting p50 ${num(p.latency.waitP50, 0)} ms)`,
  );
  // No total: the branches of a parallel block overlap (the latency line above adds the steps).
  lines.push(table([['node', 'mean ms/frame'], ...Object.entries(p.nodeMs).map(([node, ms]) => [node, num(ms, 1)])]));
  const waits = Object.entries(p.stageWaits);
  if (waits.length) {
    lines.push('  wait before each stage takes a frame (flow-limiter: at the live door)');
    lines.push(table([['stage', 'p50 ms', 'p95 ms'], ...waits.map(([stage, w]) => [stage, num(w.p50, 1), num(w.p95, 1)])]));
  }
  for (const failure of p.failures) lines.push(`  FAILED ${failure}`);
  return lines;
}

/**
 * What a frame costs the cores in each phase: where the models already keep every core busy,
 * whatever else a frame needs (decoding the frames later dropped, fusion, drawing, encoding)
 * comes out of the models' time, and the frame rate can be at most cores x 1000 / this.
 */
function cpuLines(r: BenchResult): string[] {
  const rows: string[][] = [];
  const budget = (ms: number) => num((r.machine.cpus * 1000) / ms, 2);
  if (r.inference) {
    rows.push(['bare chain, back to back', num(r.inference.chain.cpuMsPerFrame), budget(r.inference.chain.cpuMsPerFrame)]);
    rows.push(['bare, all at once', num(r.inference.concurrent.cpuMsPerFrame), budget(r.inference.concurrent.cpuMsPerFrame)]);
  }
  rows.push(['pipeline, lossless', num(r.pipeline.cpuMsPerFrame), budget(r.pipeline.cpuMsPerFrame)]);
  if (r.live) rows.push(['pipeline, live', num(r.live.cpuMsPerFrame), budget(r.live.cpuMsPerFrame)]);
  return [
    '',
    `CPU per frame (this process, all threads; ffmpeg, a child process, not counted), against ${r.machine.cpus} logical CPUs`,
    table([['run', 'cpu ms/frame', `frames/s ${r.machine.cpus} CPUs allow`], ...rows]),
  ];
}

export function formatReport(r: BenchResult): string {
  const out: string[] = [];
  out.push(
    `panoptes bench: ${r.config}, ${r.framesPerSource} frames per source, execution providers [${r.executionProviders.join(', ')}]` +
      (Object.keys(r.providers).length ? `; ran on ${Object.entries(r.providers).map(([m, p]) => `${m} ${p}`).join(', ')}` : ''),
  );
  out.push(`machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), node ${r.machine.node}, ${r.machine.platform}, load average ${num(r.machine.loadAverageAtStart, 2)} at start`);

  out.push('', 'decode alone (source node, realtime false, each frame released at once)');
  out.push(
    table([
      ['stream', 'frames', 'seconds', 'frames/s', 'after 1st frame', '1st frame'],
      ...r.decode.perSource.map((d) => [d.stream, String(d.frames), num(d.seconds, 2), num(d.fps, 1), num(d.steadyFps, 1), `${num(d.firstFrameMs, 0)} ms`]),
      ...(r.decode.allAtOnce
        ? [['all at once', String(r.decode.allAtOnce.frames), num(r.decode.allAtOnce.seconds, 2), num(r.decode.allAtOnce.fps, 1), '', '']]
        : []),
    ]),
  );

  if (r.inference) {
    const inf = r.inference;
    out.push('', `bare inference (one prepared tensor, session.run back to back on its worker thread, ${inf.runs} runs)`);
    out.push(
      table([
        ['model', 'provider', 'p50 ms', 'mean ms', 'frames/s'],
        ...inf.models.map((m) => [m.model, m.provider, num(m.msP50), num(m.msMean), num(m.fps, 1)]),
        ['chain: all back to back', '', num(inf.chain.msP50), num(inf.chain.msMean), num(inf.chain.fps, 2)],
        ['all at once, each model busy', '', '', '', num(inf.concurrent.fps, 2)],
        ...(inf.chainAfter
          ? [['chain again, after the pipeline run', '', num(inf.chainAfter.msP50), num(inf.chainAfter.msMean), num(inf.chainAfter.fps, 2)]]
          : []),
        ['ceiling: mean of the two chain runs', '', num(inf.ceilingMs), '', num(inf.ceilingFps, 2)],
      ]),
    );
  }

  const p = r.pipeline;
  out.push('', `pipeline, lossless (--no-realtime), setup ${num(p.setupSeconds, 1)} s not counted`);
  out.push(...phaseLines(p));
  out.push(
    `  pipeline / ceiling: ${num(p.ratio, 3)} (steady ${num(p.steadyRatio, 3)})` +
      (r.inference ? `  [${num(p.fps, 2)} vs ${num(r.inference.ceilingFps, 2)} frames/s]` : ''),
  );

  if (r.live) {
    const l = r.live;
    out.push('', 'pipeline, live (paced at each clip\'s frame rate, newest frame wins)');
    out.push(...phaseLines(l));
    out.push(
      `  latency beyond bare inference (latency - ceiling ms per frame): p50 ${num(l.beyondInferenceP50, 0)} ms, p95 ${num(l.beyondInferenceP95, 0)} ms`,
    );
    out.push(
      `  time in the model stages (${l.beyondInferenceStages.stages.join(', ')}): p50 ${num(l.modelStages.p50, 0)} ms, p95 ${num(l.modelStages.p95, 0)} ms`,
    );
    out.push(
      `  latency outside the model stages (latency - ${l.beyondInferenceStages.stages.join(' - ')} per frame): ` +
        `p50 ${num(l.beyondInferenceStages.p50, 0)} ms, p95 ${num(l.beyondInferenceStages.p95, 0)} ms`,
    );
  }

  out.push(...cpuLines(r));

  const m = r.memory;
  const after = Object.entries(m.rssAfterMB).map(([phase, mb]) => `after ${phase} ${num(mb, 0)}`).join(', ');
  out.push('', `resident memory (MB): start ${num(m.rssStartMB, 0)}, ${after}, end ${num(m.rssEndMB, 0)}`);
  if (r.notes.length) out.push('', 'notes:', ...r.notes.map((n) => `  - ${n}`));
  return out.join('\n') + '\n';
}

export function formatSoak(config: string, s: SoakResult): string {
  const out: string[] = [];
  out.push(
    `panoptes bench --soak: ${config}, ${s.frames} frames (${s.framesPerSource} decoded per source) ` +
      `${s.live ? 'live (paced like a camera)' : 'lossless'} in ${num(s.seconds, 0)} s ` +
      `(${num(s.fps, 2)} frames/s), drops ${s.drops}, errors ${s.errors}, in order ${s.inOrder ? 'yes' : 'NO'}`,
  );
  out.push(
    table([
      ['frames', 'seconds', 'rss MB', 'heap MB', 'external MB', 'arrayBuffers MB'],
      ...s.samples.map((x) => [String(x.frames), num(x.seconds, 0), num(x.rssMB), num(x.heapUsedMB), num(x.externalMB), num(x.arrayBuffersMB)]),
    ]),
  );
  out.push(
    `settled at ${num(s.settledMB)} MB (median after ${s.warmUpFrames} frames); max deviation after that ${num(s.maxDeviation * 100, 1)}% ` +
      `(target 10%: ${s.withinTarget ? 'met' : 'MISSED'}); within 10% from frame ${s.within10PercentFromFrames ?? '-'} on; ` +
      `trend ${num(s.trendMBPer1000Frames, 2)} MB per 1000 frames`,
  );
  for (const failure of s.failures) out.push(`FAILED ${failure}`);
  return out.join('\n') + '\n';
}

export function formatComponentBenches(r: ComponentBenches): string {
  const out: string[] = [];
  out.push('', 'tracker (ByteTrack-style, 300 frames of synthetic walkers)');
  for (const t of r.tracker) out.push(`  ${t.objects} objects: ${t.msPerFrame.toFixed(2)} ms per frame (${t.tracks} tracks alive)`);
  out.push('', 'segmentation evaluation', `  ${JSON.stringify(r.segmentationEval)}`);
  out.push('', 'eval mot (250 frames x 24 objects)', `  ${r.motEval.bestMs} ms for ${r.motEval.rows} rows`);
  const i = r.instanceEval;
  out.push(
    '',
    `eval instance (${i.annotations} COCO annotations, ${i.results} results, 500 images of 640x480)`,
    `  masks (segm) ${i.segmMs} ms, AP ${i.segmAP}; boxes (bbox) ${i.bboxMs} ms, AP ${i.bboxAP}`,
  );
  out.push('', 'viewer clients (default pipeline, 0 vs 50 clients of which 10 never read)', `  ${JSON.stringify(r.viewerClients)}`);
  out.push('', 'motion segmentation (intel_car-detection.mp4 768x432; solidWhiteRight.mp4 at 1920x1080 with aerial-cars settings; one thread)', ...formatMotionBench(r.motion));
  out.push('', ...formatCameraMotionComparison(r.cameraMotion));
  out.push('', ...formatBackgroundComparison(r.background));
  return out.join('\n') + '\n';
}

/**
 * The accuracy table: per config and data, the confirmed person tracks (recall, precision, MOTA,
 * IDF1), the person detections before tracking, counts against the truth, and frames/s.
 */
export function formatAccuracy(r: AccuracyResult): string {
  const out: string[] = [];
  out.push(
    `panoptes bench --accuracy: ${r.rows.length} runs in ${num(r.seconds, 0)} s; machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ` +
      `load average ${r.machine.loadAverageAtStart.map((l) => num(l, 2)).join(' ')} at start`,
  );
  out.push(
    table([
      ['config', 'data', 'frames', 'recall', 'precision', 'MOTA', 'IDF1', 'det. recall', 'det. precision', 'count vs truth', 'frames/s CPU', 'frames/s GPU'],
      ...r.rows.map((row) => {
        // Where the models really ran: a model that fell back to the CPU makes the figure a CPU one.
        const used = Object.values(row.providersUsed);
        const onCpu = used.every((p) => p === 'cpu');
        const fallbacks = Object.entries(row.providersUsed).filter(([, p]) => p !== row.executionProvider);
        return [
          row.config,
          row.data,
          String(row.frames),
          num(row.tracks?.recall, 2),
          num(row.tracks?.precision, 2),
          num(row.tracks?.mota, 2),
          num(row.tracks?.idf1, 2),
          num(row.detections?.recall, 2),
          num(row.detections?.precision, 2),
          row.counts.map((c) => `${c.label} ${c.counted} vs ${c.truth}`).join(', ') || '-',
          onCpu ? num(row.fps, 2) : '-',
          onCpu
            ? row.executionProvider === 'cpu' || used.length === 0
              ? 'not measured'
              : `not measured (${row.executionProvider} fell back to cpu)`
            : `${num(row.fps, 2)} (${row.executionProvider}${fallbacks.length ? `; ${fallbacks.map(([m, p]) => `${m} on ${p}`).join(', ')}` : ''})`,
        ];
      }),
    ]),
  );
  out.push(
    '',
    '  recall, precision, MOTA, IDF1: the confirmed person tracks as --mot-out writes them, scored by eval mot (IoU 0.5);',
    '  det.: the person segments of every frame before tracking, same matching (on the drone stand-in: car segments, IoU 0.3)',
  );
  const annotated = r.rows.find((row) => row.data === 'MOT17-02 frames 1-4' && row.detections)?.detections;
  if (annotated) out.push(`  MOT17-02 frames 1-4: 1920x1080, ${annotated.tp + annotated.fn} annotated pedestrians`);
  for (const row of r.rows) {
    for (const c of row.counts) out.push(`  ${row.config}: ${c.what}: ${c.counted} (truth ${c.truth})`);
    for (const note of row.notes) out.push(`  ${row.config}: ${note}`);
    for (const failure of row.failures) out.push(`  FAILED ${row.config} on ${row.data}: ${failure}`);
  }
  for (const skipped of r.skipped) out.push(`  skipped ${skipped}`);
  return out.join('\n') + '\n';
}
