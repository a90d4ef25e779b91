/**
 * The node docs are made from the code: docs/nodes.md and docs/config.schema.json must be what
 * `panoptes nodes --markdown` and `--json-schema` print now (regenerate them when this fails), and
 * they must say what the schemas say.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodesCommand } from '../../cli/nodes-command.ts';
import { builtinNodes } from '../../nodes/index.ts';
import { configJsonSchema, optionRows } from '../../pipeline/config/node-docs.ts';

async function printed(args: string[]): Promise<string> {
  let text = '';
  expect(await nodesCommand(args, (t) => void (text += t))).toBe(0);
  return text;
}

describe('node docs made from the code', () => {
  it('docs/nodes.md and docs/config.schema.json are current (npx panoptes nodes --markdown / --json-schema)', async () => {
    expect(readFileSync('docs/nodes.md', 'utf8'), 'regenerate: npx panoptes nodes --markdown > docs/nodes.md').toBe(await printed(['--markdown']));
    expect(readFileSync('docs/config.schema.json', 'utf8'), 'regenerate: npx panoptes nodes --json-schema > docs/config.schema.json').toBe(
      await printed(['--json-schema']),
    );
  });

  it('lists every node type with its options, defaults and descriptions', async () => {
    const registry = builtinNodes();
    const markdown = await printed(['--markdown']);
    for (const node of registry.list()) expect(markdown).toContain(`### \`${node.type}\``);
    const density = optionRows(registry.list().find((n) => n.type === 'crowd-density')!);
    expect(density.find((r) => r.key === 'inputWidth')).toEqual({
      key: 'inputWidth',
      type: 'integer',
      required: false,
      default: '960',
      description: expect.stringContaining('Width the region is resized to'),
    });
    expect(optionRows(registry.list().find((n) => n.type === 'events')!).find((r) => r.key === 'path')).toMatchObject({ required: true, type: 'string' });
  });

  it('the config schema checks each entry against its own type: sources, operators, parallel blocks, sinks', () => {
    const schema = configJsonSchema(builtinNodes()) as { properties: Record<string, { items: { anyOf: { title?: string; properties: Record<string, unknown>; required: string[] }[] } }> };
    const sources = schema.properties.sources!.items.anyOf;
    expect(sources.map((s) => s.title)).toEqual(expect.arrayContaining(['ffmpeg', 'mcap-playback']));
    expect(sources.find((s) => s.title === 'ffmpeg')!.required).toEqual(expect.arrayContaining(['type', 'id']));
    const pipeline = schema.properties.pipeline!.items.anyOf;
    expect(pipeline.find((p) => p.title === 'tracker')!.properties.type).toEqual({ const: 'tracker' });
    expect(pipeline.some((p) => 'parallel' in p.properties)).toBe(true);
    expect(schema.properties.sinks!.items.anyOf.map((s) => s.title)).toEqual(expect.arrayContaining(['viewer', 'mcap', 'events']));
  });

  it('one type: its options; an unknown type names the known ones', async () => {
    expect(await printed(['tracker'])).toMatch(/^tracker \(operator\): /);
    await expect(nodesCommand(['nope'], () => undefined)).rejects.toThrow(/unknown node type "nope"; expected one of: ffmpeg/);
  });
});
