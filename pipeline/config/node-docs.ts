/**
 * The node types' documentation made from their code: each node's option schema (zod, with its
 * `.describe()` texts and defaults) as JSON Schema, as a table of options, and as the JSON Schema
 * of a whole config file that editors use to complete and check configs. `panoptes nodes` prints
 * them; docs/nodes.md and docs/config.schema.json are their output, checked to be current by a
 * test, so the docs cannot drift from the code.
 */
import { z } from 'zod';
import type { AnyNode } from '../node.ts';
import type { NodeRegistry } from '../registry.ts';
import { configFileSchema } from './config-file.ts';

type JsonSchema = Record<string, unknown>;

/** A node's options as JSON Schema (what a config may write: defaults are optional). */
export function optionsJsonSchema(node: AnyNode): JsonSchema {
  const schema = z.toJSONSchema(node.options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete schema.$schema;
  return schema;
}

export interface OptionRow {
  readonly key: string;
  /** The JSON type, as `number`, `string`, `boolean`, `array`, `object`, or a list of allowed values. */
  readonly type: string;
  readonly required: boolean;
  /** The default as JSON text, when there is one. */
  readonly default?: string;
  readonly description: string;
}

function typeOf(property: JsonSchema): string {
  if (Array.isArray(property.enum)) return property.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (property.const !== undefined) return JSON.stringify(property.const);
  if (typeof property.type === 'string') return property.type === 'integer' ? 'integer' : property.type;
  const alternatives = (property.anyOf ?? property.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' | ');
  return 'any';
}

/** A node's options, one row each, in the schema's order. */
export function optionRows(node: AnyNode): OptionRow[] {
  const schema = optionsJsonSchema(node);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([key, property]) => ({
    key,
    type: typeOf(property),
    required: required.has(key),
    ...(property.default !== undefined ? { default: JSON.stringify(property.default) } : {}),
    description: typeof property.description === 'string' ? property.description : '',
  }));
}

/** The JSON Schema of a config file: its outline, each entry checked against its node type's options. */
export function configJsonSchema(registry: NodeRegistry): JsonSchema {
  const outline = z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & { properties: Record<string, JsonSchema> };
  const entry = (node: AnyNode, extra: Record<string, JsonSchema>, extraRequired: string[] = []): JsonSchema => {
    const options = optionsJsonSchema(node);
    return {
      ...options,
      title: node.type,
      description: node.description,
      properties: { type: { const: node.type }, name: { type: 'string', description: 'A label for logs, timings and drops; defaults to the type' }, ...extra, ...((options.properties ?? {}) as JsonSchema) },
      required: ['type', ...extraRequired, ...((options.required ?? []) as string[])],
      additionalProperties: false,
    };
  };
  const of = (kind: AnyNode['kind']) => registry.list().filter((n) => n.kind === kind);
  const sourceId = (outline.properties.sources as { items: { properties: { id: JsonSchema } } }).items.properties.id;
  const operators = of('operator').map((n) => entry(n, {}));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Panoptes pipeline config',
    description: 'configs/*.yaml: sources, pipeline (operators in order, or parallel blocks) and sinks (docs/configs.md)',
    ...outline,
    properties: {
      ...outline.properties,
      sources: { ...outline.properties.sources, items: { anyOf: of('source').map((n) => entry(n, { id: sourceId }, ['id'])) } },
      pipeline: {
        ...outline.properties.pipeline,
        items: {
          anyOf: [
            ...operators,
            {
              type: 'object',
              description: 'Nodes that work on the same frame at once (fan-out); the frame goes on when all are done',
              properties: { parallel: { type: 'array', minItems: 2, items: { anyOf: operators } }, name: { type: 'string' } },
              required: ['parallel'],
              additionalProperties: false,
            },
          ],
        },
      },
      sinks: { ...outline.properties.sinks, items: { anyOf: of('sink').map((n) => entry(n, {})) } },
    },
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Every node type with its options as Markdown tables: docs/nodes.md. */
export function nodesMarkdown(registry: NodeRegistry): string {
  const lines = [
    '# Node types',
    '',
    'Made from the code by `npx panoptes nodes --markdown` (each node\'s option schema: its types, defaults and',
    'descriptions); `test/config/node-docs.test.ts` fails when this file is not current. A config file\'s JSON Schema,',
    'for editors, is `docs/config.schema.json` (`npx panoptes nodes --json-schema`).',
    '',
  ];
  for (const kind of ['source', 'operator', 'sink'] as const) {
    lines.push(`## ${kind[0]!.toUpperCase()}${kind.slice(1)}s`, '');
    for (const node of registry.list().filter((n) => n.kind === kind)) {
      lines.push(`### \`${node.type}\``, '', node.description, '');
      const rows = optionRows(node);
      if (rows.length === 0) {
        lines.push('No options.', '');
        continue;
      }
      lines.push('| option | type | default | what |', '|---|---|---|---|');
      for (const row of rows) {
        lines.push(`| \`${row.key}\`${row.required ? ' (required)' : ''} | ${cell(row.type)} | ${row.default === undefined ? '' : `\`${cell(row.default)}\``} | ${cell(row.description)} |`);
      }
      lines.push('');
    }
  }
  return lines.join('\n');
}
