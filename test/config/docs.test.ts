/**
 * The docs hold together: README.md stays a front door (at most 300 lines; the reference, the
 * benches and the measurements are under docs/), every relative link in README.md and docs/*.md
 * reaches a file that exists and, with a #fragment, a heading of that file; and every shipped
 * config names the config JSON Schema on its first line (editors' completion), validates against
 * docs/config.schema.json and loads.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinNodes } from '../../nodes/index.ts';
import { loadPipeline } from '../../pipeline/load.ts';

const SCHEMA_LINE = '# yaml-language-server: $schema=../docs/config.schema.json';

/** The lines of a Markdown file outside its fenced code blocks. */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const opens = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opens && opens[1]!.startsWith(fence)) fence = undefined;
    } else if (opens) fence = opens[1]!;
    else lines.push(line);
  }
  return lines;
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, repeated ones numbered as GitHub numbers them. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const times = seen.get(base) ?? 0;
    seen.set(base, times + 1);
    found.add(times ? `${base}-${times}` : base);
  }
  return found;
}

/** Every relative link of a Markdown file (inline code and fenced blocks left out). */
function relativeLinks(text: string): string[] {
  const prose = proseLines(text).join('\n').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
  }
  return links;
}

/** What is wrong with the relative links of `file` (text given or read): one line each. */
function brokenLinks(file: string, text = readFileSync(file, 'utf8')): string[] {
  const problems: string[] = [];
  for (const link of relativeLinks(text)) {
    const [target, fragment] = link.split('#', 2) as [string, string | undefined];
    const resolved = target ? path.join(path.dirname(file), decodeURIComponent(target)) : file;
    if (!existsSync(resolved)) {
      problems.push(`${file}: ${link}: no file ${resolved}`);
      continue;
    }
    if (fragment === undefined) continue;
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
      problems.push(`${file}: ${link}: an anchor into ${resolved}, which is not a Markdown file`);
    } else if (!anchors(target ? readFileSync(resolved, 'utf8') : text).has(decodeURIComponent(fragment))) {
      problems.push(`${file}: ${link}: ${resolved} has no heading #${fragment}`);
    }
  }
  return problems;
}

const markdownFiles = ['README.md', ...readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const configs = readdirSync('configs').filter((name) => name.endsWith('.yaml')).map((name) => `configs/${name}`);

describe('README and docs/', () => {
  it('README.md is a front door of at most 300 lines', () => {
    const lines = readFileSync('README.md', 'utf8').replace(/\n$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(300);
    // What a newcomer needs stays in it: install, start, test, and where the rest went.
    const readme = lines.join('\n');
    for (const command of ['npm ci', 'npm start', 'npm test', 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci']) expect(readme).toContain(command);
    for (const doc of ['docs/cli.md', 'docs/configs.md', 'docs/quality.md', 'docs/benchmarks.md', 'docs/nodes.md', 'docs/layout.md']) {
      expect(readme).toContain(`](${doc}`);
    }
  });

  it('the link check finds a missing file and a missing heading, and takes GitHub anchors', () => {
    expect(slug('Sliced inference (`slices`)')).toBe('sliced-inference-slices');
    expect(slug('Events (`--events`)')).toBe('events---events');
    expect(slug('Beyond one machine: a cluster on NATS')).toBe('beyond-one-machine-a-cluster-on-nats');
    expect(anchors('# A\n## Tracking\n```\n# not a heading\n```\n## Tracking\n')).toEqual(new Set(['a', 'tracking', 'tracking-1']));
    const text = [
      '[ok](docs/cli.md) [ok](#a) [web](https://example.org/x) `[code](nowhere.md)`',
      '[gone](docs/nowhere.md) [bad](docs/configs.md#no-such-heading) [self](#b)',
      '# A',
    ].join('\n');
    expect(brokenLinks('README.md', text)).toEqual([
      'README.md: docs/nowhere.md: no file docs/nowhere.md',
      'README.md: docs/configs.md#no-such-heading: docs/configs.md has no heading #no-such-heading',
      'README.md: #b: README.md has no heading #b',
    ]);
  });

  it('every relative link in README.md and docs/*.md reaches an existing file and heading', () => {
    expect(markdownFiles.length).toBeGreaterThan(5);
    expect(relativeLinks(readFileSync('README.md', 'utf8')).length).toBeGreaterThan(10);
    expect(markdownFiles.flatMap((file) => brokenLinks(file))).toEqual([]);
  });
});

describe('shipped configs and docs/config.schema.json', () => {
  const schema = z.fromJSONSchema(JSON.parse(readFileSync('docs/config.schema.json', 'utf8')));

  it.each(configs)('%s points editors at the schema, validates against it and loads', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(SCHEMA_LINE);
    const result = schema.safeParse(parse(text));
    expect(result.success, result.error && JSON.stringify(result.error.issues.slice(0, 3))).toBe(true);
    expect(() => loadPipeline(file, builtinNodes())).not.toThrow();
  });

  it('the schema refuses what the loader refuses: an unknown key, a wrong type, an unknown node type', () => {
    const good = parse(readFileSync('configs/dashcam.yaml', 'utf8')) as Record<string, unknown>;
    expect(schema.safeParse(good).success).toBe(true);
    const edited = (edit: (config: any) => void) => {
      const copy = structuredClone(good);
      edit(copy);
      return schema.safeParse(copy).success;
    };
    expect(edited((c) => (c.frameTimeout = 5000))).toBe(false);
    expect(edited((c) => (c.sinks[0].prot = 8080))).toBe(false);
    expect(edited((c) => (c.sinks[0].port = 'eighty'))).toBe(false);
    expect(edited((c) => (c.pipeline[0].parallel[1].minScor = 0.3))).toBe(false);
    expect(edited((c) => (c.pipeline.at(-1).type = 'no-such-node'))).toBe(false);
  });
});
