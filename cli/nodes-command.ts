/**
 * `panoptes nodes`: the node types a config can name, made from their code: a list, one type's
 * options, every type as Markdown (docs/nodes.md), or a config file's JSON Schema for editors
 * (docs/config.schema.json).
 */
import { UsageError } from '../lib/errors.ts';
import { configJsonSchema, nodesMarkdown, optionRows } from '../pipeline/config/node-docs.ts';
import { writeToStdout, type Write } from './command.ts';
import { parseCommandLine } from './parse-command-line.ts';

export const NODES_USAGE = `panoptes nodes [type] [--markdown | --json-schema]

Lists the node types a config can name (sources, operators, sinks) with what each does; with a
type, its options: type, default and what it does.

Options:
  --markdown      every type and its options as Markdown (what docs/nodes.md holds)
  --json-schema   the JSON Schema of a config file, for editors (what docs/config.schema.json holds)`;

export async function nodesCommand(args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const { values, positionals, help } = parseCommandLine(args, {
    options: { markdown: { type: 'boolean', default: false }, 'json-schema': { type: 'boolean', default: false } },
    positionals: { min: 0, max: 1, expected: 'at most one node type' },
  });
  if (help) {
    write(NODES_USAGE + '\n');
    return 0;
  }
  if (values.markdown && values['json-schema']) throw new UsageError('give --markdown or --json-schema, not both');
  // Loaded once the command line is known to be good: the nodes bring onnxruntime, sharp and ffmpeg.
  const { builtinNodes } = await import('../nodes/index.ts');
  const registry = builtinNodes();
  if (values.markdown) {
    write(nodesMarkdown(registry) + '\n');
    return 0;
  }
  if (values['json-schema']) {
    write(JSON.stringify(configJsonSchema(registry), null, 2) + '\n');
    return 0;
  }
  const [type] = positionals;
  if (type === undefined) {
    for (const kind of ['source', 'operator', 'sink'] as const) {
      write(`${kind}s:\n`);
      for (const node of registry.list().filter((n) => n.kind === kind)) write(`  ${node.type.padEnd(24)} ${node.description}\n`);
    }
    write('\npanoptes nodes <type> shows its options.\n');
    return 0;
  }
  const node = registry.list().find((n) => n.type === type);
  if (!node) throw new UsageError(`unknown node type "${type}"; expected one of: ${registry.list().map((n) => n.type).join(', ')}`);
  write(`${node.type} (${node.kind}): ${node.description}\n\n`);
  for (const row of optionRows(node)) {
    write(`  ${row.key}${row.required ? ' (required)' : ''}: ${row.type}${row.default === undefined ? '' : ` = ${row.default}`}\n      ${row.description}\n`);
  }
  return 0;
}
