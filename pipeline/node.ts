/**
 * What a node is: a function from its validated options to an RxJS piece.
 *
 * - a **source** gives an `Observable<FramePacket>` (one per source entry in the config);
 * - an **operator** gives an `OperatorFunction<FramePacket, FramePacket>`, built once per stream so
 *   that per-stream state lives in its closure and two streams never share it;
 * - a **sink** gives a {@link Sink} that every stream's packets are written to.
 *
 * `create` is async so that expensive set-up (opening a model, probing a clip, binding a port)
 * happens, and fails, while the graph is built: before the first frame, never in the middle.
 * Operators also declare which packet sections they need and add, so a graph in the wrong order
 * is rejected when it is built (MediaPipe's calculator contract, in small).
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { FramePacket, PacketSection } from './frame.ts';
import type { Logger } from './log.ts';
import type { PipelineMetrics, SinkStatus } from './metrics.ts';

export type ExecutionProvider = 'cuda' | 'tensorrt' | 'webgpu' | 'cpu';
export type InferenceSchedule = 'parallel' | 'exclusive';

/** What every node can reach while it is created: shared for the whole graph. */
export interface GraphContext {
  readonly log: Logger;
  readonly metrics: PipelineMetrics;
  /** Absolute path of the data directory (models and clips live under it). */
  readonly dataDir: string;
  /** Aborted when the pipeline is asked to stop. */
  readonly signal: AbortSignal;
  /** The ids of the graph's sources, in config order. */
  readonly streams: readonly string[];
  /** onnxruntime execution providers to try, best first; CPU is always the last resort. */
  readonly executionProviders: readonly ExecutionProvider[];
  /**
   * `parallel`: models run whenever their stage has a frame (best throughput on a small CPU);
   * `exclusive`: one model at a time, later stages first (lower latency, less throughput).
   */
  readonly inferenceSchedule: InferenceSchedule;
  /**
   * One value per key for the whole graph, created on first use and disposed when the graph
   * stops: how several streams share one inference session per model (a side packet).
   */
  shared<T>(key: string, create: () => Promise<T>, dispose?: (value: T) => void | Promise<void>): Promise<T>;
}

/** The context of one node in one stream's chain. */
export interface ChainContext extends GraphContext {
  readonly stream: string;
  /**
   * True when every frame must be processed, in order (a file played with `realtime: false`):
   * stages then queue instead of dropping, and the source waits for free buffers.
   */
  readonly lossless: boolean;
  /** The node's label in timings, drops and logs, e.g. `semantic-segmentation`. */
  readonly label: string;
  /** The node's place in the chain: 0 for the source and the first operator, then 1, 2, ... */
  readonly position: number;
  readonly log: Logger;
}

export interface Sink {
  /** Receives every processed packet of every stream, synchronously: copy what you keep. */
  write(packet: FramePacket): void;
  /**
   * Asked right after each `write`: a promise when the sink's lossless queue is past its bound
   * (its consumer is behind, see servers/queue/). The graph keeps the packet's buffers until
   * it settles, so a lossless source waits and a live one drops at its flow limiter, rather than
   * the sink losing data or growing its memory.
   */
  backpressure?(): Promise<void> | undefined;
  /**
   * Clients and queued bytes, for `/metrics` (read on every scrape): servers and queued sinks
   * report it, so a slow consumer shows before it costs memory.
   */
  status?(): SinkStatus;
  /** A stream ended (end of file, or its source failed with `error`). */
  streamEnded?(stream: string, error?: Error): void;
  /**
   * Why the sink has failed, once it has (its file could not be written, its ffmpeg died): what
   * it could no longer do is lost. Undefined while it works. The graph watches it: it logs the
   * failure once, counts it in the metrics, and stops the run (which then exits 1), unless the
   * sink's options say `optional: true` ({@link optionalSinkOption}): then the run goes on without it.
   */
  failure?(): string | undefined;
  /** Flushes and frees what the sink holds; called once when the graph stops. */
  close(): Promise<void>;
}

/**
 * The `optional` option of a sink that can fail mid-run (a file on a disk that fills): the graph
 * reads it from the sink's options. False: a failure stops the run, exit 1. True: the run goes on
 * without the sink, the failure counted in `/metrics` and shown in `/readyz` (degraded).
 */
export const optionalSinkOption = z
  .boolean()
  .optional()
  .describe('true: if this sink fails mid-run (its disk fills) the run goes on without it, the failure counted in /metrics and shown in /readyz; false: the run stops, exit 1');

/** Whether a sink's options mark it `optional` (see {@link optionalSinkOption}). */
export function isOptionalSink(options: unknown): boolean {
  return typeof options === 'object' && options !== null && (options as { optional?: unknown }).optional === true;
}

interface NodeBase<Options> {
  readonly type: string;
  /** One sentence for `panoptes nodes` and error messages. */
  readonly description: string;
  readonly options: z.ZodType<Options>;
}

export interface SourceNode<Options = unknown> extends NodeBase<Options> {
  readonly kind: 'source';
  /**
   * Whether a source with these options wants every frame processed in order (a recorded file
   * played as fast as possible) rather than the newest frame first. False when omitted.
   */
  lossless?(options: Options): boolean;
  /** Packet sections the source fills in itself (a detections replay adds `instances`). */
  readonly adds?: readonly PacketSection[];
  create(options: Options, ctx: ChainContext): Promise<Observable<FramePacket>>;
}

export interface OperatorNode<Options = unknown> extends NodeBase<Options> {
  readonly kind: 'operator';
  /** Sections that nodes before this one must have added, all of them. */
  readonly needs: readonly PacketSection[];
  /** Sections of which nodes before this one must have added at least one. */
  readonly needsOneOf?: readonly PacketSection[];
  readonly adds: readonly PacketSection[];
  /**
   * Sections an earlier node added that this one rewrites when they are there (the tracker writes
   * track ids into `panoptic`): what keeps two branches of a parallel block apart.
   *
   * `frame` here: the node edits the frame's pixels (redact blurs boxes), and may do so in place
   * in the pooled buffer, because the graph makes sure that nothing else holds them meanwhile:
   * every source gives each packet a buffer of its own; every node before this one has let go of
   * the pixels when it hands the packet on (one that keeps reading them, as a model run in the
   * background does, reads a copy); and the graph refuses the node in a parallel block (the
   * branches share one frame: one beside it, the overlay say, would read the pixels as they
   * change) and after a node that {@link copies} the frame (the overlay: its picture, hence the
   * viewer's, the recording's and the clips', would not have the edit). Nodes and sinks after it
   * see the edited pixels; models before it saw them unedited.
   */
  readonly updates?: readonly PacketSection[];
  /**
   * Sections this node copies into what it adds: the overlay draws the frame's pixels into its
   * JPEG (`copies: ['frame']`). A node after it that rewrites one of them is refused, since its
   * change would not reach that copy.
   */
  readonly copies?: readonly PacketSection[];
  create(options: Options, ctx: ChainContext): Promise<OperatorFunction<FramePacket, FramePacket>>;
}

export interface SinkNode<Options = unknown> extends NodeBase<Options> {
  readonly kind: 'sink';
  create(options: Options, ctx: GraphContext): Promise<Sink>;
}

/** A node of any kind with its options type erased, as the registry stores it. */
export type AnyNode = SourceNode<unknown> | OperatorNode<unknown> | SinkNode<unknown>;

export function defineSource<Options>(node: Omit<SourceNode<Options>, 'kind'>): SourceNode<Options> {
  return { kind: 'source', ...node };
}

export function defineOperator<Options>(node: Omit<OperatorNode<Options>, 'kind'>): OperatorNode<Options> {
  return { kind: 'operator', ...node };
}

export function defineSink<Options>(node: Omit<SinkNode<Options>, 'kind'>): SinkNode<Options> {
  return { kind: 'sink', ...node };
}
