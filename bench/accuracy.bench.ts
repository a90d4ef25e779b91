/**
 * `panoptes bench --accuracy`: what each shipped config sees, scored on the annotated data in the
 * data directory, and how fast it ran there.
 *
 * Each case runs a config as `panoptes run --no-realtime` would, every frame in order, with its
 * source pointed at annotated data and its sinks replaced by a scoring probe (no viewer, no port).
 * The scores come from the project's own evaluation (evaluation/mot, what `panoptes eval mot`
 * runs), on what the run's sinks would have written:
 *
 * - people, on MOT17-02 frames 1-4 (`replay/sequences/MOT17-02-FRCNN/img1/%06d.jpg`, scored
 *   against its `gt/gt.txt`): the confirmed person tracks, written by the real `mot-file` sink
 *   (`--mot-out`) and scored by `evaluateMot` (recall, precision, MOTA, IDF1); and the person
 *   segments of every frame before tracking (the things `--events` lists), scored as detections
 *   by the same counting (recall, precision). A density model's count against the annotated
 *   pedestrians of the frames it ran on.
 * - vehicles crossing the counting line of configs/traffic-count.yaml on its clip, against
 *   replay-data/traffic-count-ground-truth.json.
 * - vehicles in five frames of the highway clip, every one a person saw
 *   (replay-data/solidWhiteRight-cars.json), IoU 0.3: recall by COCO size, precision, and the
 *   cars of frame 100 at least 25 px wide.
 *
 * Frames/s is the frames that left the graph over the time from the graph's start (models
 * loaded and warmed up, not counted) to the last one: for a 4-frame case, the first frame's trip
 * through an empty pipeline weighs a quarter of it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { recallBySize, type AnnotatedBox } from '../evaluation/instance/recall-by-size.ts';
import { countSequence, evaluateMot, sequenceMetrics } from '../evaluation/mot/evaluate.ts';
import { parseMotText, readMotFile, type MotRows } from '../lib/formats/mot-file.ts';
import { toXywh, type Box } from '../lib/geometry/box.ts';
import { builtinNodes } from '../nodes/index.ts';
import { motFileSink } from '../nodes/sinks/mot-file-sink.ts';
import type { FramePacket } from '../pipeline/frame.ts';
import { buildGraph } from '../pipeline/graph.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { Logger } from '../pipeline/log.ts';
import { defineSink, type ExecutionProvider, type Sink, type SinkNode } from '../pipeline/node.ts';
import { lineCrossings, scoreStandinFrame, STANDIN_SECONDS, STANDIN_SETTLED_FRAME, STANDIN_WIDTH, writeDroneStandin } from '../testing/drone-standin.ts';
import { round } from './stats.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The annotated data a case is scored on. */
export type AccuracyData = 'MOT17-02 frames 1-4' | 'traffic clip, counting line' | 'highway frames, cars by size' | 'drone stand-in (drawn)';

export interface AccuracyCase {
  /** Config file, relative to the repository. */
  readonly config: string;
  readonly data: AccuracyData;
}

/**
 * Every case, in the order of the table. A config that is not in configs/ is skipped; one whose
 * pipeline has no person or car output still runs (its scores are then zero: that is what it sees).
 */
export const ACCURACY_CASES: readonly AccuracyCase[] = [
  { config: 'configs/mot17-public-detections.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/dashcam.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/dashcam-gpu.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/people-zone.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/crowd-density.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/crowd.yaml', data: 'MOT17-02 frames 1-4' },
  { config: 'configs/traffic-count.yaml', data: 'traffic clip, counting line' },
  { config: 'configs/dashcam.yaml', data: 'highway frames, cars by size' },
  { config: 'configs/dashcam-boxes.yaml', data: 'highway frames, cars by size' },
  { config: 'configs/dashcam-gpu.yaml', data: 'highway frames, cars by size' },
  { config: 'configs/aerial-cars.yaml', data: 'drone stand-in (drawn)' },
];

const MOT17_SEQUENCE = 'replay/sequences/MOT17-02-FRCNN';
const MOT17_IMAGES = `${MOT17_SEQUENCE}/img1/%06d.jpg`;
/** The frames of MOT17-02 with ground truth in the data directory. */
const MOT17_FRAMES = 4;
const TRAFFIC_TRUTH = 'replay-data/traffic-count-ground-truth.json';
const HIGHWAY_TRUTH = 'replay-data/solidWhiteRight-cars.json';
const IOU_THRESHOLD = 0.5;
/** Cars read off the highway frames by eye, to 1-3 px: a far car of 10 px cannot be held to 0.5. */
const HIGHWAY_IOU_THRESHOLD = 0.3;
/** The highway frame whose cars ahead (at least this wide) make the dashcam's own bar. */
const HIGHWAY_AHEAD = { frame: 100, minWidth: 25 } as const;

/** Class names a config's people come out as: COCO's, and MOTChallenge detections'. */
const PERSON_CLASSES = ['person', 'pedestrian'];
/** What counts as a vehicle on the road: on a line, and for a hand-drawn "car" box. */
const VEHICLE_CLASSES = ['car', 'truck', 'bus', 'motorcycle', 'bicycle'];
const CAR_CLASSES = ['car', 'truck', 'bus'];

/** Recall and precision, with the counts behind them. */
export interface DetectionScore {
  readonly recall: number;
  readonly precision: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** What `panoptes eval mot` says of the confirmed person tracks (combined over the sequence). */
export interface TrackScore extends DetectionScore {
  readonly mota: number;
  readonly idf1: number;
  readonly hota: number;
  readonly idsw: number;
}

/** A count against the truth: line crossings, or a density model's people. */
export interface CountScore {
  /** A word for the table: `in`, `out`, `density`, `cars`. */
  readonly label: string;
  readonly what: string;
  readonly counted: number;
  readonly truth: number;
}

export interface AccuracyRow extends AccuracyCase {
  /** Frames that left the graph. */
  readonly frames: number;
  readonly seconds: number;
  readonly setupSeconds: number;
  /** Frames/s on the provider below (the whole pipeline, lossless). */
  readonly fps: number;
  /** The provider asked for (`--ep`, else cpu). */
  readonly executionProvider: ExecutionProvider;
  /**
   * The provider each model actually ran on: one that could not run on the one asked for falls
   * back to the CPU, and then the row's frames/s are not that provider's.
   */
  readonly providersUsed: Readonly<Record<string, string>>;
  /** The confirmed person tracks (`--mot-out`), where the config tracks. */
  readonly tracks?: TrackScore;
  /** Person segments (or, without fusion, instances) of every frame, before tracking. */
  readonly detections?: DetectionScore;
  readonly counts: readonly CountScore[];
  readonly notes: readonly string[];
  readonly failures: readonly string[];
}

export interface AccuracyResult {
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly loadAverageAtStart: readonly number[] };
  readonly rows: readonly AccuracyRow[];
  readonly skipped: readonly string[];
  /** Seconds the whole accuracy bench took, setup included. */
  readonly seconds: number;
}

export interface AccuracyOptions {
  /** Only the cases of these configs (paths as in {@link ACCURACY_CASES}, or absolute); all when left out. */
  readonly configs?: readonly string[];
  /** Only the cases on this data. */
  readonly data?: readonly AccuracyData[];
  /** The provider every model is asked to run on (default cpu, whatever the config says). */
  readonly ep?: ExecutionProvider;
  /** Keep each case's `--mot-out` file here (named `<config>.txt`) instead of a temporary folder. */
  readonly motFilesIn?: string;
}

/** Runs the cases one after the other; `progress` gets a line as each starts. */
export async function benchAccuracy(options: AccuracyOptions, log: Logger, progress: (line: string) => void): Promise<AccuracyResult> {
  const started = performance.now();
  const loadAverageAtStart = os.loadavg().map((l) => round(l, 2));
  const wanted = options.configs?.map((c) => path.resolve(REPO, c));
  const cases = ACCURACY_CASES.filter(
    (c) => (!wanted || wanted.includes(path.resolve(REPO, c.config))) && (!options.data || options.data.includes(c.data)),
  );
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'panoptes-accuracy-'));
  const rows: AccuracyRow[] = [];
  const skipped: string[] = [];
  // Drawn once, when a case needs it: the data directory has no drone clip.
  const droneClip = path.join(scratch, 'drone-standin.mp4');
  try {
    for (const c of cases) {
      if (!existsConfig(c.config)) {
        skipped.push(`${c.config}: not in this checkout`);
        continue;
      }
      progress(`accuracy: ${c.config} on ${c.data}`);
      if (c.data === 'drone stand-in (drawn)' && !existsSync(droneClip)) writeDroneStandin(droneClip, STANDIN_SECONDS);
      const motFile = path.join(options.motFilesIn ?? scratch, `${path.basename(c.config, '.yaml')}.txt`);
      rows.push(await runCase(c, { ep: options.ep ?? 'cpu', motFile, droneClip }, log));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  return {
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? '?', loadAverageAtStart },
    rows,
    skipped,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

function existsConfig(config: string): boolean {
  try {
    readFileSync(path.resolve(REPO, config));
    return true;
  } catch {
    return false;
  }
}

type Entry = Record<string, unknown>;
const entries = (value: unknown): Entry[] =>
  Array.isArray(value) ? value.filter((e): e is Entry => e !== null && typeof e === 'object') : [];

/** Points the config's one source at the case's data, every frame in order, once. */
function replaceSource(raw: Entry, c: AccuracyCase, droneClip: string): void {
  const sources = entries(raw.sources);
  if (sources.length !== 1) throw new Error(`${c.config}: the accuracy bench replaces one source; the config has ${sources.length}`);
  const source = sources[0]!;
  if (source.type === 'mot-detections') {
    // Its own reader of the sequence: only the frames with ground truth.
    if (c.data !== 'MOT17-02 frames 1-4') throw new Error(`${c.config}: a mot-detections source plays MOT17-02 only`);
    source.path = MOT17_SEQUENCE;
    source.maxFrames = MOT17_FRAMES;
    source.realtime = false;
    return;
  }
  if (source.type !== 'ffmpeg') throw new Error(`${c.config}: the accuracy bench knows ffmpeg and mot-detections sources, not ${String(source.type)}`);
  source.realtime = false;
  source.loop = false;
  delete source.maxFrames;
  if (c.data === 'MOT17-02 frames 1-4') source.uri = MOT17_IMAGES;
  else if (c.data === 'traffic clip, counting line') source.uri = readJson<{ clip: string }>(TRAFFIC_TRUTH).clip;
  else if (c.data === 'drone stand-in (drawn)') source.uri = droneClip;
  else {
    const truth = readJson<HighwayTruth>(HIGHWAY_TRUTH);
    source.uri = truth.clip;
    // Tracks need the frames before the annotated ones; the ones after the last would only cost time.
    source.maxFrames = Math.max(...truth.frames.map((f) => f.frame)) + 1;
  }
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(REPO, file), 'utf8')) as T;
}

/** What the scoring needs of each frame; nothing of its pixels. */
interface FrameSeen {
  readonly seq: number;
  /** Person boxes before tracking (segments where fusion runs, else the model's instances). */
  readonly persons: readonly Box[];
  /** Car boxes (segments, else instances): scored at the highway frame only. */
  readonly cars: readonly Box[];
  readonly density?: { readonly count: number; readonly fresh: boolean };
  readonly lines: Readonly<Record<string, { in: number; out: number }>>;
}

function boxesOf(packet: FramePacket, classes: readonly string[]): Box[] {
  if (packet.panoptic) {
    return packet.panoptic.segments.filter((s) => s.isThing && classes.includes(s.className)).map((s) => s.bbox);
  }
  const instances = packet.instances;
  if (!instances) return [];
  const boxes: Box[] = [];
  for (let i = 0; i < instances.count; i++) {
    if (!classes.includes(instances.classes.names[instances.classIds[i]!] ?? '')) continue;
    const b = instances.boxes;
    boxes.push([b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!]);
  }
  return boxes;
}

function frameSeen(packet: FramePacket): FrameSeen {
  const sum = (counts: Readonly<Record<string, number>>) => VEHICLE_CLASSES.reduce((n, c) => n + (counts[c] ?? 0), 0);
  const lines = Object.fromEntries((packet.analytics?.lines ?? []).map((l) => [l.name, { in: sum(l.in), out: sum(l.out) }]));
  const density = packet.density ? { count: packet.density.count, fresh: packet.density.ageMs === 0 } : undefined;
  return {
    seq: packet.frame.seq,
    persons: boxesOf(packet, PERSON_CLASSES),
    cars: boxesOf(packet, CAR_CLASSES),
    ...(density ? { density } : {}),
    lines,
  };
}

const ACCURACY_PROBE_TYPE = 'accuracy-probe';

interface Seen {
  readonly frames: FrameSeen[];
  /** performance.now() when each frame left the graph. */
  readonly at: number[];
  tracked: boolean;
}

/**
 * The case's only sink: keeps {@link FrameSeen} per frame, and hands the confirmed person tracks
 * to the real `mot-file` sink, so the file scored is the one `--mot-out` writes for them.
 */
function accuracyProbe(seen: Seen, motFile: string): SinkNode<unknown> {
  return defineSink<unknown>({
    type: ACCURACY_PROBE_TYPE,
    description: 'accuracy bench: keeps what scoring needs of each frame, writes the person tracks as --mot-out does',
    options: z.object({}),
    async create(_options, ctx) {
      const tracks: Sink = await motFileSink.create({ path: motFile }, ctx);
      return {
        write(packet) {
          seen.frames.push(frameSeen(packet));
          seen.at.push(performance.now());
          if (!packet.tracks) return;
          seen.tracked = true;
          tracks.write({ ...packet, tracks: packet.tracks.filter((t) => PERSON_CLASSES.includes(t.className)) });
        },
        backpressure: () => tracks.backpressure?.(),
        failure: () => tracks.failure?.(),
        close: () => tracks.close(),
      };
    },
  });
}

interface CaseFiles {
  readonly ep: ExecutionProvider;
  readonly motFile: string;
  /** The drawn drone clip (testing/drone-standin.ts). */
  readonly droneClip: string;
}

async function runCase(c: AccuracyCase, { ep, motFile, droneClip }: CaseFiles, log: Logger): Promise<AccuracyRow> {
  const seen: Seen = { frames: [], at: [], tracked: false };
  const registry = builtinNodes().register(accuracyProbe(seen, motFile));
  const { spec, dataDir } = loadPipeline(path.resolve(REPO, c.config), registry, (raw) => {
    replaceSource(raw, c, droneClip);
    raw.sinks = [{ type: ACCURACY_PROBE_TYPE }];
    raw.executionProviders = [ep];
  });
  const setupStarted = performance.now();
  const graph = await buildGraph(spec, { dataDir, log });
  const providersUsed = Object.fromEntries(graph.metrics.inferenceProviders);
  const startedAt = performance.now();
  let failures: string[];
  try {
    const outcomes = await graph.run();
    failures = outcomes.filter((o) => o.error).map((o) => `${o.stream}: ${o.error!.message}`);
  } finally {
    // Closes the mot-file sink: the file is whole once this returns.
    await graph.stop();
  }
  const lastAt = seen.at.at(-1) ?? startedAt;
  const seconds = (lastAt - startedAt) / 1000;
  const common = {
    ...c,
    frames: seen.frames.length,
    seconds: round(seconds, 2),
    setupSeconds: round((startedAt - setupStarted) / 1000, 2),
    fps: round(seen.frames.length / seconds, 2),
    executionProvider: ep,
    providersUsed,
    failures,
  };
  switch (c.data) {
    case 'MOT17-02 frames 1-4':
      return { ...common, ...scorePeople(seen, path.join(dataDir, MOT17_SEQUENCE), motFile) };
    case 'traffic clip, counting line':
      return { ...common, ...scoreLine(seen) };
    case 'highway frames, cars by size':
      return { ...common, ...scoreCars(seen) };
    case 'drone stand-in (drawn)':
      return { ...common, ...scoreDrone(seen) };
  }
}

type Scores = Pick<AccuracyRow, 'tracks' | 'detections' | 'counts' | 'notes'>;

function scorePeople(seen: Seen, sequence: string, motFile: string): Scores {
  const notes: string[] = [];
  const gt = readMotFile(path.join(sequence, 'gt', 'gt.txt'), 'auto');
  let tracks: TrackScore | undefined;
  if (seen.tracked) {
    // What `panoptes eval mot --gt <sequence> --pred <mot file>` prints as "combined".
    const m = evaluateMot({ gt: sequence, pred: motFile, iouThreshold: IOU_THRESHOLD }).combined;
    tracks = { recall: m.Recall, precision: m.Precision, tp: m.TP, fp: m.FP, fn: m.FN, mota: m.MOTA, idf1: m.IDF1, hota: m.HOTA, idsw: m.IDSW };
  } else {
    notes.push('no tracker: detections only');
  }
  const counts: CountScore[] = [];
  const densityRuns = seen.frames.filter((f) => f.density?.fresh);
  if (densityRuns.length > 0) {
    const visible = densityRuns.reduce((n, f) => n + peopleIn(gt, f.seq + 1), 0);
    const counted = densityRuns.reduce((n, f) => n + f.density!.count, 0);
    const frames = `${densityRuns.length === 1 ? 'frame' : 'frames'} ${densityRuns.map((f) => f.seq + 1).join(', ')}`;
    counts.push({ label: 'density', what: `density, against every person visible in ${frames} (walking, riding, sitting)`, counted: round(counted, 1), truth: visible });
  }
  return { ...(tracks ? { tracks } : {}), detections: scoreDetections(gt, seen.frames), counts, notes };
}

/** MOT17's classes of a person a density model counts by the head: walking, on a vehicle, static (sitting). */
const PEOPLE_CLASSES = [1, 2, 7];

/**
 * Everyone a density model should count in a frame: the annotated pedestrians, people on
 * bicycles and sitting people, at least partly visible (not the distractors: mannequins, and
 * reflections). The tracker's scores count the pedestrians alone, as MOTChallenge does.
 */
function peopleIn(gt: MotRows, frame: number): number {
  let n = 0;
  for (let r = 0; r < gt.count; r++) if (gt.frame[r] === frame && PEOPLE_CLASSES.includes(gt.classId[r]!) && gt.visibility[r]! > 0) n++;
  return n;
}

/**
 * The person boxes of every frame, each its own one-frame "track", scored by the evaluation's
 * own matching: its recall and precision are those of the detections (the MOTA and IDF1 of such
 * tracks mean nothing and are not kept).
 */
function scoreDetections(gt: MotRows, frames: readonly FrameSeen[]): DetectionScore {
  const lines: string[] = [];
  let id = 1;
  for (const f of frames) {
    for (const box of f.persons) {
      const [x, y, w, h] = toXywh(box);
      lines.push(`${f.seq + 1},${id++},${x},${y},${w},${h},1,-1,-1,-1`);
    }
  }
  const m = sequenceMetrics(countSequence(gt, parseMotText(lines.join('\n'), 'person detections', 'mot15'), IOU_THRESHOLD));
  return { recall: m.Recall, precision: m.Precision, tp: m.TP, fp: m.FP, fn: m.FN };
}

function scoreLine(seen: Seen): Scores {
  const truth = readJson<{ line: { name: string }; in: number; out: number }>(TRAFFIC_TRUTH);
  const last = seen.frames.at(-1)?.lines[truth.line.name] ?? { in: 0, out: 0 };
  return {
    counts: [
      { label: 'in', what: `vehicles in across "${truth.line.name}"`, counted: last.in, truth: truth.in },
      { label: 'out', what: `vehicles out across "${truth.line.name}"`, counted: last.out, truth: truth.out },
    ],
    notes: [],
  };
}

/** replay-data/solidWhiteRight-cars.json: every vehicle a person saw in some frames of the clip. */
interface HighwayTruth {
  readonly clip: string;
  readonly frames: readonly { readonly frame: number; readonly cars: readonly AnnotatedBox[] }[];
}

/**
 * The highway frames a person annotated completely (every vehicle seen, down to 6 px wide):
 * the car, truck and bus segments of each, matched one to one at IoU 0.3 (boxes read by eye),
 * recall by COCO size and precision (a segment on no annotated vehicle is false); and the
 * dashcam's own bar, the cars of frame 100 at least 25 px wide.
 */
function scoreCars(seen: Seen): Scores {
  const truth = readJson<HighwayTruth>(HIGHWAY_TRUTH);
  const missing = truth.frames.filter((t) => !seen.frames.some((f) => f.seq === t.frame)).map((t) => t.frame);
  if (missing.length > 0) return { counts: [], notes: [`frames ${missing.join(', ')} never left the graph`] };
  const pairs = truth.frames.map((t) => ({ truth: t.cars, found: seen.frames.find((f) => f.seq === t.frame)!.cars }));
  const all = recallBySize(pairs, HIGHWAY_IOU_THRESHOLD);
  const aheadTruth = truth.frames.find((t) => t.frame === HIGHWAY_AHEAD.frame)!;
  const wide = aheadTruth.cars.filter((c) => !c.unsure && c.box[2] - c.box[0] >= HIGHWAY_AHEAD.minWidth);
  const ahead = recallBySize([{ truth: wide, found: pairs[truth.frames.indexOf(aheadTruth)]!.found }], HIGHWAY_IOU_THRESHOLD);
  const { small, medium, large } = all.bySize;
  return {
    detections: { recall: all.recall, precision: all.precision, tp: all.tp, fp: all.fp, fn: all.fn },
    counts: [
      { label: 'small', what: `small vehicles (under 32² px) found in frames ${truth.frames.map((f) => f.frame).join(', ')}`, counted: small.found, truth: small.total },
      { label: 'medium', what: 'medium vehicles (32² to 96² px) found', counted: medium.found, truth: medium.total },
      { label: 'large', what: 'large vehicles (over 96² px) found', counted: large.found, truth: large.total },
      { label: `ahead`, what: `vehicles of frame ${HIGHWAY_AHEAD.frame} at least ${HIGHWAY_AHEAD.minWidth} px wide found`, counted: ahead.tp, truth: wide.length },
    ],
    notes: [`every vehicle a person saw in ${truth.frames.length} frames, IoU ${HIGHWAY_IOU_THRESHOLD}; boxes marked unsure neither missed nor false`],
  };
}

/**
 * The drawn drone clip: every car segment of every frame once the background has settled,
 * against the cars wholly in view (IoU 0.3: cars of a few pixels), and the line's crossings
 * since then against the cars' paths crossing the picture's vertical midline.
 */
function scoreDrone(seen: Seen): Scores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const settled = seen.frames.filter((f) => f.seq >= STANDIN_SETTLED_FRAME);
  for (const frame of settled) {
    const score = scoreStandinFrame(frame.cars, frame.seq);
    tp += score.found;
    fp += score.wrong;
    fn += score.missed;
  }
  const first = settled[0];
  const last = settled.at(-1);
  if (!first || !last) return { counts: [], notes: ['no frame after the background settled'] };
  const [name, totals] = Object.entries(last.lines)[0] ?? ['', { in: 0, out: 0 }];
  const before = first.lines[name] ?? { in: 0, out: 0 };
  const truth = lineCrossings(STANDIN_WIDTH / 2, first.seq, last.seq);
  return {
    detections: { recall: tp / Math.max(1, tp + fn), precision: tp / Math.max(1, tp + fp), tp, fp, fn },
    counts: [
      { label: 'in', what: `cars in (rightward) across "${name}" after frame ${first.seq}`, counted: totals.in - before.in, truth: truth.right },
      { label: 'out', what: `cars out (leftward) across "${name}" after frame ${first.seq}`, counted: totals.out - before.out, truth: truth.left },
    ],
    notes: [`a drawn stand-in, not a real drone clip (testing/drone-standin.ts); scored from frame ${first.seq} (background settled)`],
  };
}
