/**
 * The pipeline config file: YAML with `sources`, `pipeline` (operators, in order) and `sinks`,
 * each entry `{ type, ...options }`; a pipeline entry may also be `{ parallel: [entries] }`,
 * operators that work on the same frame at once. This module reads the file and checks its outline; node
 * options are checked against each node's own schema when the graph is resolved.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, parseOrExplain } from './validation.ts';

const nodeEntry = z.looseObject({
  type: z.string().describe('The node type, e.g. panoptic-fusion'),
  name: z.string().optional().describe('A label for logs, timings and drops; defaults to the type'),
});

const sourceEntry = z.looseObject({
  ...nodeEntry.shape,
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." or "-"')
    .describe('The stream name, shown in the viewer and in every event'),
});

const parallelEntry = z.strictObject({
  parallel: z
    .array(nodeEntry)
    .min(2, 'at least two nodes (a single node needs no parallel block)')
    .describe('Nodes that work on the same frame at once (fan-out); the frame goes on when all are done'),
  name: z.string().min(1).optional().describe('A label for drops and logs; defaults to the nodes\' labels joined by "+"'),
});

export const configFileSchema = z.strictObject({
  dataDir: z
    .string()
    .optional()
    .describe('Folder holding models/ and replay/, relative to this file; PANOPTES_DATA overrides it'),
  executionProviders: z
    .array(z.enum(['cuda', 'tensorrt', 'webgpu', 'cpu']))
    .min(1)
    .default(['cpu'])
    .describe('onnxruntime execution providers to try, best first; CPU is always the fallback'),
  inferenceSchedule: z
    .enum(['parallel', 'exclusive'])
    .default('parallel')
    .describe('parallel: models overlap on different frames (throughput); exclusive: one at a time, later stages first (latency)'),
  maxInFlight: z
    .number()
    .int()
    .min(1)
    .default(2)
    .describe(
      'Live streams: frames between a source and the sinks at once (a flow limiter); 2 (the default) lets the next frame into the first stage (the models) as soon as this one leaves it, while this one is fused, tracked and drawn (the models never wait for the drawing); 1 lets a frame in only when the last one is done (on a loaded machine, a little less latency and fewer frames/s)',
    ),
  maxInFlightPerStage: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe(
      "Live streams: frames at once in a chain's first stage (MediaPipe's flow limiter per stage); 1 (the default) never queues a frame behind another inside the models, more lets frames overlap there too (cores or a GPU to spare)",
    ),
  frameTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe(
      'Live streams: milliseconds a frame may stay between its source and the sinks; past that a watchdog logs the stage that holds it, counts it as a drop at "watchdog" and lets the next frame in',
    ),
  sources: z.array(sourceEntry).min(1, 'at least one source'),
  pipeline: z.array(z.union([nodeEntry, parallelEntry])).default([]),
  sinks: z.array(nodeEntry).default([]),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type NodeEntry = z.infer<typeof nodeEntry>;
export type ParallelEntry = z.infer<typeof parallelEntry>;

/** Reads and parses a config file into a plain object, without checking it. */
export function readConfigFile(file: string): unknown {
  if (!existsSync(file)) {
    throw new ConfigError(`config not found: ${file} (the configs shipped with Panoptes are in configs/)`);
  }
  if (statSync(file).isDirectory()) {
    throw new ConfigError(`${file} is a folder, not a config file: name a .yaml file in it (the configs shipped with Panoptes are in configs/)`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the config ${file}: ${(error as Error).message}`);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length) {
    throw new ConfigError(
      document.errors.map((e) => `${file}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`).join('\n'),
    );
  }
  return document.toJS() as unknown;
}

/** Checks the outline of a parsed config (node options are checked later, per node). */
export function checkConfigFile(raw: unknown, file: string): ConfigFile {
  return parseOrExplain(configFileSchema, raw, { file });
}

/**
 * What can be read of a config whose outline is wrong, so that its entries can still be
 * checked in the same run: the top-level settings that are right (the others at their
 * defaults, unknown ones left out), and the source, pipeline and sink entries that have the
 * shape of one. Undefined when not one source is left.
 */
export function salvageConfigFile(raw: unknown): ConfigFile | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  const fits = (schema: z.ZodType) => (entry: unknown) => schema.safeParse(entry).success;
  const list = (value: unknown, schema: z.ZodType) => (Array.isArray(value) ? value.filter(fits(schema)) : []);
  const salvaged: Record<string, unknown> = {
    sources: list(record.sources, sourceEntry),
    pipeline: list(record.pipeline, z.union([nodeEntry, parallelEntry])),
    sinks: list(record.sinks, nodeEntry),
  };
  for (const [key, schema] of Object.entries(configFileSchema.shape)) {
    if (key in salvaged || !(schema as z.ZodType).safeParse(record[key]).success) continue;
    salvaged[key] = record[key];
  }
  const result = configFileSchema.safeParse(salvaged);
  return result.success ? result.data : undefined;
}
