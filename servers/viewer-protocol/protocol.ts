/**
 * The viewer protocol (docs/protocol.md): its constants and the shape of every message, shared
 * by the servers that speak it (the viewer sink, the cluster dashboard) and by the dashboard page
 * (viewer/), which imports this file. Types and constants only, and nothing that needs Node: the
 * page's type check (viewer/tsconfig.json) and its bundle take this file and what it imports.
 * What clients send is checked in client-messages.ts.
 */
import type { XywhBox } from '../../lib/geometry/box.ts';
import type { AnalyticsEvent, ClassCounts, LineTotals, ZoneTotals } from '../../pipeline/analytics-types.ts';
import type { StreamStats } from '../../pipeline/stream-stats.ts';

export type { AnalyticsEvent, ClassCounts, LineEvent, ZoneEvent } from '../../pipeline/analytics-types.ts';

export const PROTOCOL_VERSION = 1;
export const TOPICS = ['video', 'frames', 'events', 'snapshots', 'counts', 'stats', 'density'] as const;
export type Topic = (typeof TOPICS)[number];
/** In a subscription, every stream, including those that appear later. */
export const ALL_STREAMS = '*';

// ---- from the client ------------------------------------------------------------------------

export type ClientMessage =
  | { readonly type: 'subscribe' | 'unsubscribe'; readonly streams?: readonly string[]; readonly topics: readonly string[] }
  | { readonly type: 'ping'; readonly id?: string | number };

export type ErrorCode = 'bad-json' | 'bad-message' | 'unknown-type' | 'unknown-stream' | 'unknown-topic';

// ---- text messages from the server ----------------------------------------------------------

export interface HelloMessage {
  readonly type: 'hello';
  readonly server: 'panoptes';
  readonly protocol: number;
  readonly streams: readonly string[];
  readonly topics: readonly Topic[];
  readonly limits: { readonly maxClientMessageBytes: number; readonly maxQueuedBytes: number; readonly stuckTimeoutMs: number };
}

/** A density count and the band its model's expected error gives, people, 1 decimal. */
export interface DensityBand {
  readonly count: number;
  readonly low: number;
  readonly high: number;
}

/**
 * One processed frame's counts (`counts` topic); with a crowd-density node, `density` (the
 * estimate with its band; `ageMs`: stream milliseconds since the frame it was computed on) and
 * each zone's `density`.
 */
export interface CountsMessage {
  readonly type: 'counts';
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  readonly counts: ClassCounts;
  readonly unique?: ClassCounts;
  readonly lines?: Readonly<Record<string, { readonly in: ClassCounts; readonly out: ClassCounts }>>;
  readonly zones?: Readonly<Record<string, { readonly occupancy: ClassCounts; readonly entered: ClassCounts; readonly density?: DensityBand }>>;
  readonly coverage?: Readonly<Record<string, number>>;
  readonly density?: DensityBand & { readonly expectedError: number; readonly ageMs: number };
}

/** A stream's figures in `stats`; the cluster dashboard adds the worker that runs the stream. */
export type StreamStatsEntry = StreamStats & { readonly worker?: string };

/** A sink that failed mid-run, as `stats` names it. */
export interface FailedSink {
  readonly sink: string;
  readonly reason: string;
  /** The run goes on without an optional sink. */
  readonly optional: boolean;
}

/** Every 500 ms (`stats` topic): the pipeline's figures per stream, and this client's own. */
export interface StatsMessage {
  readonly type: 'stats';
  readonly streams: readonly StreamStatsEntry[];
  /** There once a sink has failed mid-run. */
  readonly failedSinks?: readonly FailedSink[];
  readonly client: { readonly dropped: Readonly<Partial<Record<Topic, number>>>; readonly queuedBytes: number };
}

export type ServerEvent =
  | HelloMessage
  | { readonly type: 'subscribed'; readonly subscriptions: readonly { readonly stream: string; readonly topic: Topic }[] }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'ended'; readonly stream: string; readonly error?: string }
  | { readonly type: 'pong'; readonly id?: string | number }
  | CountsMessage
  | StatsMessage
  | AnalyticsEvent;

// ---- binary messages from the server: `u32 BE header length | JSON header | payloads` ---------

/** Which frame a message is, and how old: the fields every frame message starts with. */
export interface FrameStamp {
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  /** `Date.now()` when the source decoded the frame. */
  readonly capturedAtMs: number;
  /** `Date.now()` when the frame left the pipeline. */
  readonly sentAtMs: number;
  /** Size of the image. */
  readonly width: number;
  readonly height: number;
}

/** A thing as the `video` header lists it: `bbox` is `[x, y, width, height]` in the JPEG's pixels. */
export interface ViewerSegment {
  readonly id: number;
  readonly className: string;
  readonly bbox: XywhBox;
  readonly score: number;
  readonly trackId?: number;
}

/** The header of a `video` message; its payload is the rendered overlay as JPEG. */
export interface VideoHeader extends FrameStamp {
  readonly type: 'video';
  /** Things per class: confirmed tracks when analytics run, else every thing segment. */
  readonly counts: ClassCounts;
  readonly segments: readonly ViewerSegment[];
  readonly lines?: readonly LineTotals[];
  readonly zones?: readonly ZoneTotals[];
  readonly unique?: ClassCounts;
}

/** A segment as the `frames` header lists it, stuff included: `bbox` is `[x, y, width, height]`. */
export interface FramesSegment {
  readonly id: number;
  readonly classId: number;
  readonly className: string;
  readonly isThing: boolean;
  readonly area: number;
  readonly bbox: XywhBox;
  readonly score: number;
  readonly trackId?: number;
  /** `tentative`, `confirmed` or `lost`. */
  readonly trackState?: string;
  /** Things only: `model`, `semantic` or `box`, where the mask came from. */
  readonly maskSource?: string;
}

/**
 * The header of a `frames` message; its payload is the raw frame as JPEG (`jpegBytes`), then
 * the segment map as RGB PNG (`maskBytes`, segment id `R + 256·G + 256²·B`).
 */
export interface FramesHeader extends FrameStamp {
  readonly type: 'frames';
  readonly segments: readonly FramesSegment[];
  readonly classNames: readonly string[];
  readonly jpegBytes: number;
  readonly maskBytes: number;
}

/** The header of a `density` message: the estimate, and the grid its payload holds. */
export interface DensityHeader {
  readonly type: 'density';
  readonly stream: string;
  /** The frame the estimate was computed on, and its time in the stream. */
  readonly seq: number;
  readonly ptsMs: number;
  readonly sentAtMs: number;
  readonly model: string;
  /** People, and the band the model's expected error gives (1 decimal). */
  readonly count: number;
  readonly low: number;
  readonly high: number;
  readonly expectedError: number;
  /** Where the grid lies in the frame, normalized `[x1, y1, x2, y2]`. */
  readonly region: readonly [number, number, number, number];
  /** The grid: `width x height` bytes, row-major. */
  readonly width: number;
  readonly height: number;
  /** People in a cell of value 255 (the densest). */
  readonly maxPerCell: number;
}

/** The header of an event's snapshot (`events` topic, after the event); its payload is a JPEG. */
export interface SnapshotHeader {
  readonly type: 'snapshot';
  readonly stream: string;
  /** The event's `id`. */
  readonly id: string;
}

export type BinaryHeader = VideoHeader | FramesHeader | DensityHeader | SnapshotHeader;
