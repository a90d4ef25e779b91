/**
 * From a checked config file to a graph specification: every node looked up in the registry,
 * its options parsed with its own schema (unknown keys rejected, so typos are caught), and the
 * operators' order checked against what each needs and adds (the branches of a parallel block
 * against what comes before the block). A node that edits the frame's pixels (`updates:
 * ['frame']`) must stand on a line of its own, before the node that copies them into what is
 * shown (the overlay, `copies: ['frame']`).
 */
import { z } from 'zod';
import type { PacketSection } from '../frame.ts';
import type { ExecutionProvider, InferenceSchedule, OperatorNode, SinkNode, SourceNode } from '../node.ts';
import type { NodeRegistry } from '../registry.ts';
import type { ConfigFile, NodeEntry, ParallelEntry } from './config-file.ts';
import { ConfigError, ConfigProblems, keyPath, parseOrExplain } from './validation.ts';

export interface Resolved<N> {
  readonly node: N;
  readonly label: string;
  readonly options: unknown;
}

export type ResolvedOperator = Resolved<OperatorNode>;

/** Operators that work on the same frame at once (a `parallel` block of the config). */
export interface ParallelStep {
  readonly label: string;
  readonly parallel: readonly ResolvedOperator[];
}

/** One stage of every chain: an operator, or operators side by side. */
export type PipelineStep = ResolvedOperator | ParallelStep;

/** What an operator adds to a packet or rewrites in it. */
export function sectionsWritten(node: OperatorNode): PacketSection[] {
  return [...node.adds, ...(node.updates ?? [])];
}

/** What an operator reads from a packet. */
function sectionsRead(node: OperatorNode): PacketSection[] {
  return [...node.needs, ...(node.needsOneOf ?? [])];
}

/** The operators of a step, one for a plain step. */
export function stepOperators(step: PipelineStep): readonly ResolvedOperator[] {
  return 'parallel' in step ? step.parallel : [step];
}

export interface GraphSpec {
  readonly file: string;
  readonly executionProviders: readonly ExecutionProvider[];
  readonly inferenceSchedule: InferenceSchedule;
  /** Live streams: frames let into a chain at once (flow-limiter.ts). */
  readonly maxInFlight: number;
  /** Live streams: frames at once in a chain's first stage (flow-limiter.ts, FirstStageLimit). */
  readonly maxInFlightPerStage: number;
  /** Live streams: milliseconds a frame may stay in flight before the watchdog gives up on it. */
  readonly frameTimeoutMs: number;
  readonly dataDir: string | undefined;
  readonly sources: readonly (Resolved<SourceNode> & { readonly id: string })[];
  readonly pipeline: readonly PipelineStep[];
  readonly sinks: readonly Resolved<SinkNode>[];
}

const ENTRY_KEYS = ['type', 'name', 'id'];

/** `a`, `a and b`, `a, b and c`. */
function andList(names: readonly string[]): string {
  return names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function parseOptions(
  schema: z.ZodType,
  entry: NodeEntry,
  file: string,
  prefix: readonly PropertyKey[],
): unknown {
  const options = Object.fromEntries(Object.entries(entry).filter(([key]) => !ENTRY_KEYS.includes(key)));
  const strict = schema instanceof z.ZodObject ? schema.strict() : schema;
  return parseOrExplain(strict, options, { file, prefix, unknownKeysEverywhere: true });
}

// A node entry always has a type; a block never does (its schema refuses one).
const isParallel = (entry: NodeEntry | ParallelEntry): entry is ParallelEntry => !('type' in entry);

function labelsFor(entries: readonly NodeEntry[]): string[] {
  const seen = new Map<string, number>();
  return entries.map((entry) => {
    const base = entry.name ?? entry.type;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

/**
 * Resolves every entry of `config`, and throws one {@link ConfigError} listing every problem
 * found (with `earlier`'s, the outline's, first): each unknown type, each entry's unknown keys
 * and bad values at every level, each operator out of order. The order is checked only as far
 * as every operator before could be resolved (an unknown type would make every later need look
 * unmet).
 */
export function resolveGraphSpec(config: ConfigFile, file: string, registry: NodeRegistry, earlier = new ConfigProblems()): GraphSpec {
  const problems = earlier;
  const ids = new Set<string>();
  const resolvedSources = config.sources.map((entry, i) => {
    problems.run(() => {
      if (ids.has(entry.id)) throw new ConfigError(`${file}: sources[${i}].id: "${entry.id}" is used twice; ids must be unique`);
      ids.add(entry.id);
    });
    const node = problems.run(() => registry.get(entry.type, 'source', `${file}: sources[${i}].type`));
    const options = node && problems.run(() => parseOptions(node.options, entry, file, ['sources', i]));
    return node && { id: entry.id, node, label: entry.id, options };
  });
  const sources = resolvedSources.filter((source) => source !== undefined);
  /** Whether every node so far is known, so that what each needs can be checked. */
  let orderKnown = sources.length === config.sources.length && sources.length > 0;

  // Labels are unique across every operator, inside parallel blocks too.
  const operatorEntries = config.pipeline.flatMap((entry) => (isParallel(entry) ? entry.parallel : [entry]));
  const labelOf = new Map(labelsFor(operatorEntries).map((label, i) => [operatorEntries[i]!, label]));
  // The frame, and what every source adds, is there from the start (all chains run the same operators).
  const available = new Set<PacketSection>([
    'frame',
    ...(sources.length ? sources.map((s) => s.node.adds ?? []).reduce((common, adds) => common.filter((section) => adds.includes(section))) : []),
  ]);
  /** Per section, the first operator so far that copies it into what it adds (the overlay: the frame). */
  const copiedBy = new Map<PacketSection, { readonly type: string; readonly where: string; readonly into: readonly PacketSection[] }>();
  const noteCopies = (entry: NodeEntry, node: OperatorNode, where: readonly (string | number)[]) => {
    for (const section of node.copies ?? []) {
      if (!copiedBy.has(section)) copiedBy.set(section, { type: entry.type, where: keyPath(where), into: node.adds });
    }
  };
  /** The first operator after step `i` that adds `section`, by its type and place. */
  const operatorOfType = (type: string) =>
    registry.list().find((n): n is OperatorNode => n.kind === 'operator' && n.type === type);
  const laterAdder = (i: number, section: PacketSection): { type: string; where: string } | undefined => {
    for (let j = i + 1; j < config.pipeline.length; j++) {
      const entry = config.pipeline[j]!;
      const entries = isParallel(entry) ? entry.parallel : [entry];
      for (const [k, later] of entries.entries()) {
        if (operatorOfType(later.type)?.adds.includes(section)) {
          return { type: later.type, where: keyPath(isParallel(entry) ? ['pipeline', j, 'parallel', k] : ['pipeline', j]) };
        }
      }
    }
    return undefined;
  };
  /** The operator of `entry`, its options undefined when they are wrong; undefined for an unknown type. */
  const resolveOperator = (entry: NodeEntry, where: readonly (string | number)[]): (ResolvedOperator & { readonly ok: boolean }) | undefined => {
    const at = `${file}: ${keyPath(where)}`;
    const node = problems.run(() => registry.get(entry.type, 'operator', `${at}.type`));
    if (!node) {
      orderKnown = false;
      return undefined;
    }
    const options = problems.run(() => parseOptions(node.options, entry, file, where));
    if (orderKnown) problems.run(() => checkOrder(entry, node, at, where));
    return { node, label: labelOf.get(entry)!, options, ok: options !== undefined };
  };
  const checkOrder = (entry: NodeEntry, node: OperatorNode, at: string, where: readonly (string | number)[]): void => {
    // A section this node rewrites that a node before it has already copied into what it adds
    // (redact after the overlay): the change would reach nothing that is shown.
    for (const section of node.updates ?? []) {
      const copier = copiedBy.get(section);
      if (!copier) continue;
      const into = copier.into.map((s) => `"${s}"`).join(', ');
      throw new ConfigError(
        section === 'frame'
          ? `${at} (${entry.type}) edits the frame's pixels after ${copier.type} (${copier.where}) has drawn them into ${into}, ` +
              `so what is shown from it would not have the edit; move ${entry.type} before ${copier.type}`
          : `${at} (${entry.type}) rewrites "${section}" after ${copier.type} (${copier.where}) has copied it into ${into}, ` +
              `so the change would not reach that; move ${entry.type} before ${copier.type}`,
      );
    }
    // A section this node rewrites, or prefers among its inputs, that only a later node adds: the
    // node would run without it and the later node would add it without the node's work (a
    // tracker before panoptic-fusion: no track ids in the panoptic segments). Not a silent no-op.
    for (const section of [...(node.updates ?? []), ...(node.needsOneOf ?? [])]) {
      if (available.has(section)) continue;
      const later = laterAdder(where[1] as number, section);
      if (later) {
        throw new ConfigError(
          `${at} (${entry.type}) works on "${section}", which ${later.type} adds only after it (${later.where}); ` +
            `move ${entry.type} after ${later.type}`,
        );
      }
    }
    const missing = node.needs.filter((section) => !available.has(section));
    const oneOf = node.needsOneOf ?? [];
    if (oneOf.length && !oneOf.some((section) => available.has(section))) {
      throw new ConfigError(`${at} (${entry.type}) needs one of ${oneOf.map((s) => `"${s}"`).join(', ')}, which no node before it adds`);
    }
    if (missing.length) {
      const providers = registry
        .list()
        .filter((n): n is OperatorNode => n.kind === 'operator' && n.adds.some((s) => missing.includes(s)))
        .map((n) => n.type);
      throw new ConfigError(
        `${at} (${entry.type}) needs ${missing.map((s) => `"${s}"`).join(', ')}, which no node before it adds; ` +
          `put one of ${providers.join(', ')} before it`,
      );
    }
  };
  const parallelStep = (entry: ParallelEntry, i: number, branches: ResolvedOperator[]): PipelineStep => {
    // The branches share one frame: a node that edits its pixels would change them under the
    // others' feet (and the overlay beside it would show them half edited, or not at all).
    const editor = branches.find((branch) => branch.node.updates?.includes('frame'));
    if (editor) {
      const others = branches.filter((branch) => branch !== editor).map((branch) => branch.label);
      const copiers = branches.filter((branch) => branch !== editor && branch.node.copies?.includes('frame')).map((branch) => branch.label);
      throw new ConfigError(
        `${file}: pipeline[${i}].parallel: ${andList([editor.label, ...others])} are in one parallel block, but ${editor.label} edits the frame's pixels, ` +
          `which the nodes beside it share (a parallel block gives them one frame); put ${editor.label} on its own line ` +
          (copiers.length ? `before ${andList(copiers)}` : 'before or after the block'),
      );
    }
    const writtenBy = new Map<PacketSection, string>();
    for (const branch of branches) {
      for (const section of sectionsWritten(branch.node)) {
        const other = writtenBy.get(section);
        if (other) {
          throw new ConfigError(
            `${file}: pipeline[${i}].parallel: ${other} and ${branch.label} both write "${section}"; keep one of them, or chain them one after the other`,
          );
        }
        writtenBy.set(section, branch.label);
      }
    }
    for (const branch of branches) {
      const clash = sectionsRead(branch.node).find((section) => writtenBy.has(section) && writtenBy.get(section) !== branch.label);
      if (clash) {
        throw new ConfigError(
          `${file}: pipeline[${i}].parallel: ${branch.label} reads "${clash}", which ${writtenBy.get(clash)} writes beside it; chain them one after the other`,
        );
      }
    }
    for (const branch of branches) branch.node.adds.forEach((section) => available.add(section));
    for (const [j, branch] of branches.entries()) noteCopies(entry.parallel[j]!, branch.node, ['pipeline', i, 'parallel', j]);
    return { label: entry.name ?? branches.map((b) => b.label).join('+'), parallel: branches };
  };
  const steps = config.pipeline.map((entry, i): PipelineStep | undefined => {
    if (!isParallel(entry)) {
      const step = resolveOperator(entry, ['pipeline', i]);
      step?.node.adds.forEach((section) => available.add(section));
      if (step) noteCopies(entry, step.node, ['pipeline', i]);
      return step?.ok ? { node: step.node, label: step.label, options: step.options } : undefined;
    }
    // Branches see the same packet: none can use what another adds, no two write the same
    // section, and none reads what another rewrites.
    const resolved = entry.parallel.map((branch, j) => resolveOperator(branch, ['pipeline', i, 'parallel', j]));
    const branches = resolved.filter((branch) => branch !== undefined);
    if (branches.length < resolved.length) return undefined;
    const step = problems.run(() => parallelStep(entry, i, branches.map(({ node, label, options }) => ({ node, label, options }))));
    return branches.every((branch) => branch.ok) ? step : undefined;
  });
  const sinkLabels = labelsFor(config.sinks);
  const sinks = config.sinks.map((entry, i) =>
    problems.run(() => {
      const node = registry.get(entry.type, 'sink', `${file}: sinks[${i}].type`);
      return { node, label: sinkLabels[i]!, options: parseOptions(node.options, entry, file, ['sinks', i]) };
    }),
  );
  problems.throwIfAny();
  const pipeline = steps as PipelineStep[];

  // Drops and log lines are keyed by label: a block's name must not be an operator's too.
  const labels = pipeline.flatMap((step) => ('parallel' in step ? [step.label, ...step.parallel.map((op) => op.label)] : [step.label]));
  const twice = labels.find((label, i) => labels.indexOf(label) !== i);
  if (twice !== undefined) {
    throw new ConfigError(`${file}: pipeline: the label "${twice}" is used twice; give the parallel block another name`);
  }

  return {
    file,
    executionProviders: config.executionProviders,
    inferenceSchedule: config.inferenceSchedule,
    maxInFlight: config.maxInFlight,
    maxInFlightPerStage: config.maxInFlightPerStage,
    frameTimeoutMs: config.frameTimeoutMs,
    dataDir: config.dataDir,
    sources,
    pipeline,
    sinks: sinks as Resolved<SinkNode>[],
  };
}
