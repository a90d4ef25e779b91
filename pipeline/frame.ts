/**
 * The data that flows through the graph.
 *
 * A source emits one {@link FramePacket} per decoded frame; every node after it returns a packet
 * with one more section filled in (`semantic`, `instances`, `panoptic`, `overlay`, ...). Nodes
 * never mutate the packet they receive: they spread it and add their own section, so a sink can
 * hold on to a packet while the next one is being built. The one exception is the frame's pixels,
 * which a node that declares `updates: ['frame']` (redact) edits in place, where the graph lets it
 * (node.ts, `OperatorNode.updates`).
 *
 * Large buffers (the RGB frame, label maps) come from pools. A packet lists the leases it holds;
 * {@link releasePacket} gives them back once the last consumer is done, or when a flow limiter
 * drops the packet.
 *
 * A packet carries its own meaning, so no reader looks anything up elsewhere: each section names
 * its {@link ClassSet} (names, things, palette), each panoptic segment carries the runs of pixels
 * it owns, and every box is a {@link Box}, `[x1, y1, x2, y2]` in frame pixels.
 */
import type { Box } from '../lib/geometry/box.ts';
import type { CroppedMask } from '../lib/geometry/pixel-runs.ts';
import type { AnalyticsEvent, ClassCounts, LineTotals, ZoneTotals } from './analytics-types.ts';

/** One decoded video frame: RGB24, row-major, `width * height * 3` bytes. */
export interface Frame {
  /** The id of the source that produced it (the `id` of the source in the config). */
  readonly stream: string;
  /** 0-based index of the frame in the order the source decoded it, dropped frames included. */
  readonly seq: number;
  /** Presentation time in milliseconds from the start of the stream. */
  readonly ptsMs: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** Wall-clock time (`Date.now()`) at which the source emitted the frame. */
  readonly capturedAtMs: number;
}

/** The classes a model knows, as the model catalog describes them. */
export interface ClassSet {
  /** The set's name in the catalog (`cityscapes`, `coco`). */
  readonly name: string;
  readonly names: readonly string[];
  /** `isThing[c]` for class index c. */
  readonly isThing: readonly boolean[];
  /** `isVoid[c]`: pixels of class c belong to no segment. */
  readonly isVoid: readonly boolean[];
  /** One colour per class, or undefined where the set has none (colours are then made up). */
  readonly palette: readonly (readonly [number, number, number])[] | undefined;
}

/** Per-pixel classes at the model's own resolution, as a semantic head decodes them. */
export interface SemanticLabels {
  readonly model: string;
  readonly width: number;
  readonly height: number;
  /** One class index per pixel, in the model's class order. */
  readonly labels: Uint8Array;
  readonly classes: ClassSet;
}

/** A binary mask of one instance, cropped to the integer box it covers in the frame. */
export type InstanceMask = CroppedMask;

/**
 * Instances found in one frame, as a struct of arrays (the shape of supervision's `Detections`).
 * Boxes are `[x1, y1, x2, y2]` in frame pixels.
 */
export interface Instances {
  readonly model: string;
  readonly count: number;
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  /** Class index in the model's own class list. */
  readonly classIds: Int32Array;
  readonly classes: ClassSet;
  /** One mask per instance, or none for box-only detectors. */
  readonly masks: readonly InstanceMask[] | undefined;
}

export type TrackState = 'tentative' | 'confirmed' | 'lost';

/** One segment of a panoptic frame: a stuff region or a thing instance. */
export interface Segment {
  /** Unique within the frame; the value of its pixels in `segmentMap`. Never 0 (0 is void). */
  readonly id: number;
  readonly classId: number;
  readonly className: string;
  readonly isThing: boolean;
  /** Number of pixels. */
  readonly area: number;
  /** Bounds of the pixels the segment owns; far edges exclusive, so `x2 - x1` is its width in pixels. */
  readonly bbox: Box;
  /**
   * The pixels the segment owns, as runs along rows (lib/geometry/pixel-runs.ts): `[start,
   * end, ...]` of row-major indices into the segment map, `end` exclusive. Found once, by fusion.
   */
  readonly runs: Uint32Array;
  /** Detection score for things; 1 for stuff, which the semantic head does not score. */
  readonly score: number;
  readonly trackId?: number;
  readonly trackState?: TrackState;
  /**
   * Things only: where the segment's pixels came from. `model`: the instance model's own mask;
   * `semantic`: a box-only detector's box, filled with the semantic model's pixels of the
   * matching class; `box`: the box itself, where the semantic model did not see that class.
   */
  readonly maskSource?: MaskSource;
}

export type MaskSource = 'model' | 'semantic' | 'box';

/** Every pixel has one class and one segment: the panoptic frame. */
export interface PanopticFrame {
  readonly width: number;
  readonly height: number;
  /** Class per pixel in `classes` order, {@link VOID_CLASS} where nothing claims the pixel. */
  readonly classMap: Uint8Array;
  /** Segment id per pixel, 0 where void. */
  readonly segmentMap: Uint32Array;
  readonly segments: readonly Segment[];
  readonly classes: ClassSet;
}

/** Class value of void pixels in {@link PanopticFrame.classMap}. */
export const VOID_CLASS = 255;

/** One tracked object in one frame: what counters, trails and MOT files read. */
export interface TrackedObject {
  /** Unique within the stream and never reused. */
  readonly trackId: number;
  readonly state: TrackState;
  readonly classId: number;
  readonly className: string;
  /** The detection's box when seen, the prediction when lost. */
  readonly bbox: Box;
  readonly score: number;
  /** The panoptic segment it was seen as in this frame; absent when lost or without panoptic. */
  readonly segmentId?: number;
  /** That segment's pixels ({@link Segment.runs}), so counters need not look the segment up. */
  readonly runs?: Uint32Array;
  /**
   * Where the track has been: the bottom centre of its box in its last confirmed frames, oldest
   * first (the tracker's `trailLength`). The overlay and Foxglove draw the same trail.
   */
  readonly trail?: readonly (readonly [number, number])[];
  /** Stream time since the track started, in milliseconds. */
  readonly ageMs: number;
  /** Frames in which it was seen. */
  readonly hits: number;
}

/** A decaying density map of where people have been, `width x height` cells over the frame. */
export interface Heatmap {
  readonly width: number;
  readonly height: number;
  /** Row-major cell values, 0 and up; recent presence weighs more. */
  readonly data: Float32Array;
}

export interface FrameAnalytics {
  /** Confirmed things seen in this frame, per class. */
  readonly counts: ClassCounts;
  /** Fraction of the frame each stuff class covers, e.g. `{ road: 0.42 }`. */
  readonly coverage: Readonly<Record<string, number>>;
  /** Distinct objects confirmed since the start, per class (re-entries counted once). */
  readonly unique: ClassCounts;
  readonly lines: readonly LineTotals[];
  readonly zones: readonly ZoneTotals[];
  /** Line crossings and zone entries and exits that happened in this frame. */
  readonly events: readonly AnalyticsEvent[];
  /** People in the frame (confirmed), and the density map when enabled. */
  readonly crowd: { readonly persons: number; readonly heatmap?: Heatmap };
}

/** The rendered overlay, encoded once per frame and shared by every viewer. */
export interface RenderedOverlay {
  readonly jpeg: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * How the camera moved since the previous frame of the stream, estimated from the images
 * (motion-segmentation): `[a, b, c, d, e, f]` maps a point of the previous frame to this one,
 * `x' = a*x + b*y + c`, `y' = d*x + e*y + f`, in frame pixels. Identity for a fixed camera.
 */
export interface CameraMotion {
  readonly affine: readonly [number, number, number, number, number, number];
  /** How sure the estimate is, 0..1; below the estimator's own threshold `affine` is the identity. */
  readonly confidence: number;
}

/**
 * A crowd count regressed from a density map (crowd-density): where people stand too close for
 * boxes. Computed every few frames; between runs the last one is carried, with its age.
 */
export interface DensityEstimate {
  /** The catalog id of the density model. */
  readonly model: string;
  /** Estimated people in `region`: `scale` times the sum of `map`. */
  readonly count: number;
  /** The per-camera calibration factor applied to the model's sum. */
  readonly scale: number;
  /**
   * How far off `count` is expected to be, as a fraction of it (0.26: 26%): the model's figure
   * in models/catalog.yaml (`expectedError`), or the node's own. The density models' published
   * errors are about a quarter of the count.
   */
  readonly expectedError: number;
  /** The band every display shows around `count`: `count * (1 - expectedError)` people... */
  readonly low: number;
  /** ...to `count * (1 + expectedError)`. */
  readonly high: number;
  /** The model's density, `width x height` cells over `region` (stride 4 of its input), uncalibrated. */
  readonly map: Float32Array;
  readonly width: number;
  readonly height: number;
  /** The part of the frame counted, normalized `[x1, y1, x2, y2]` (0..1). */
  readonly region: Box;
  /** The frame the estimate was computed on. */
  readonly seq: number;
  /** Stream milliseconds since that frame: 0 on it, growing until the next run. */
  readonly ageMs: number;
}

/** Something a packet holds that must be given back when the packet is done. */
export type Lease = () => void;

export interface FramePacket {
  readonly frame: Frame;
  /** Milliseconds each node spent on this frame, keyed by node label. */
  readonly timings: Readonly<Record<string, number>>;
  /**
   * Milliseconds this frame waited before each stage took it (keyed by stage label; `flow-limiter`
   * for the live door), where recorded: where latency goes besides the nodes' own time.
   */
  readonly waits?: Readonly<Record<string, number>>;
  readonly semantic?: SemanticLabels;
  readonly instances?: Instances;
  readonly panoptic?: PanopticFrame;
  /** Every live track (tentative, confirmed and lost) after this frame. */
  readonly tracks?: readonly TrackedObject[];
  readonly analytics?: FrameAnalytics;
  readonly overlay?: RenderedOverlay;
  /** Camera motion since the stream's previous frame, where an estimator ran. */
  readonly cameraMotion?: CameraMotion;
  /** Crowd count from a density model, where a crowd-density node runs. */
  readonly density?: DensityEstimate;
  readonly leases: readonly Lease[];
}

/**
 * Sections a node can require, add or rewrite; checked when the graph is built. `frame` is the
 * picture itself: every source gives it, so no node needs to ask for it, and a node that edits
 * its pixels (redact) lists it in `updates` (node.ts, `OperatorNode.updates`, says what that
 * allows and what the graph then refuses).
 */
export type PacketSection = 'frame' | 'semantic' | 'instances' | 'panoptic' | 'tracks' | 'analytics' | 'overlay' | 'cameraMotion' | 'density';

export function packetOf(frame: Frame, leases: readonly Lease[] = []): FramePacket {
  return { frame, timings: {}, leases };
}

/** Returns a packet with `section` set, `ms` recorded under `label`, and `leases` appended. */
export function withSection<K extends PacketSection>(
  packet: FramePacket,
  section: K,
  value: NonNullable<FramePacket[K]>,
  label: string,
  ms: number,
  leases: readonly Lease[] = [],
): FramePacket {
  return {
    ...packet,
    [section]: value,
    timings: { ...packet.timings, [label]: ms },
    leases: leases.length ? [...packet.leases, ...leases] : packet.leases,
  };
}

/**
 * `into` with the `sections` of `from` added, the timings of both, and the leases of both: how a
 * parallel stage joins what its branches added to copies of one packet (see parallel-stage.ts).
 * `from` must hold only leases `into` does not.
 */
export function mergeSections(into: FramePacket, from: FramePacket, sections: readonly PacketSection[]): FramePacket {
  const added: Partial<Pick<FramePacket, PacketSection>> = Object.fromEntries(sections.map((section) => [section, from[section]]));
  return {
    ...into,
    ...added,
    timings: { ...into.timings, ...from.timings },
    leases: from.leases.length ? [...into.leases, ...from.leases] : into.leases,
  };
}

/** Gives back every pooled buffer the packet holds. Safe to call once per packet. */
export function releasePacket(packet: FramePacket): void {
  for (const release of packet.leases) release();
}
