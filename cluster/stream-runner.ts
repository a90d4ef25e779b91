/**
 * One stream on a worker: its own graph, built from the shared config with only that stream's
 * source, the worker's NATS sink, and a sink that saves its totals (state-store.ts); started when
 * the worker gets the stream's lease, stopped when it hands it back or loses it.
 *
 * A graph per stream (rather than one graph for every stream the worker holds) is what lets a
 * stream come and go without touching the others. Its cost: streams on one worker do not share
 * inference sessions (one per model per stream), see docs/operations.md, "Beyond one machine".
 */
import { z } from 'zod';
import { builtinNodes } from '../nodes/index.ts';
import { buildGraph, type Graph, type StreamOutcome } from '../pipeline/graph.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { Logger } from '../pipeline/log.ts';
import { defineSink } from '../pipeline/node.ts';
import { totalsOf, type StreamState } from './state-store.ts';

/** Sink types a worker keeps from the config: the others (a viewer's port, a file's path) would clash between streams and workers. */
export const CLUSTER_SINK_TYPES: ReadonlySet<string> = new Set(['mqtt']);
const STATE_SINK = 'cluster-state';
const SAVE_INTERVAL_MS = 1000;

export type RawConfig = Record<string, unknown>;
type Entry = Record<string, unknown>;
export const configEntries = (value: unknown): Entry[] =>
  Array.isArray(value) ? value.filter((e): e is Entry => e !== null && typeof e === 'object') : [];

export interface StreamRunnerOptions {
  readonly configFile: string;
  readonly stream: string;
  readonly worker: string;
  readonly natsUrl: string;
  readonly state: StreamState;
  /** The command line's changes to the config (run-command.ts), made before the worker's own. */
  readonly edit: (raw: RawConfig) => void;
  readonly log: Logger;
}

export interface RunningStream {
  readonly stream: string;
  /** Settles when the stream ends by itself (end of file, failure) or is stopped. */
  readonly ended: Promise<StreamOutcome>;
  /** Stops the graph and saves the totals one last time. Idempotent. */
  stop(): Promise<void>;
}

/** The config for one stream of the worker: its source only, the cluster's sinks, the saved totals. */
export function streamConfigEdit(options: Pick<StreamRunnerOptions, 'stream' | 'worker' | 'natsUrl' | 'edit' | 'state'>): (raw: RawConfig) => void {
  return (raw) => {
    options.edit(raw);
    raw.sources = configEntries(raw.sources).filter((s) => s.id === options.stream);
    raw.sinks = [
      ...configEntries(raw.sinks).filter((s) => CLUSTER_SINK_TYPES.has(String(s.type))),
      { type: 'nats', url: options.natsUrl, worker: options.worker },
      { type: STATE_SINK },
    ];
    const saved = options.state.saved;
    if (saved) {
      const resume = { lines: saved.lines, zones: saved.zones, unique: saved.unique };
      for (const step of configEntries(raw.pipeline)) {
        for (const node of 'parallel' in step ? configEntries(step.parallel) : [step]) if (node.type === 'analytics') node.resume = resume;
      }
    }
  };
}

export async function startStream(options: StreamRunnerOptions): Promise<RunningStream> {
  const { state, worker, log } = options;
  const stateSink = defineSink({
    type: STATE_SINK,
    description: 'Keeps the newest totals of a cluster stream for its state store.',
    options: z.object({}),
    create: async () => ({
      write(packet) {
        if (packet.analytics) state.offer(totalsOf(packet.analytics, worker, Date.now()));
      },
      close: async () => undefined,
    }),
  });
  const registry = builtinNodes().register(stateSink);
  const { spec, dataDir } = loadPipeline(options.configFile, registry, streamConfigEdit(options));
  const graph: Graph = await buildGraph(spec, { dataDir, log });
  const saver = setInterval(() => void state.flush(), SAVE_INTERVAL_MS);
  saver.unref();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(saver);
      await graph.stop();
      await state.flush();
    })());
  const ended = graph.run().then(async (outcomes) => {
    await stop();
    return outcomes[0] ?? { stream: options.stream };
  });
  return { stream: options.stream, ended, stop };
}
