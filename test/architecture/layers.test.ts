/**
 * The layering rule (docs/layout.md): a file imports only from its own layer or from layers
 * below it, and no chain of imports comes back to where it started.
 *
 *   cli, scripts             the commands: the one place that wires nodes, evaluation and bench
 *   bench                    benchmarks
 *   testing                  harnesses the tests and the bench share: local nats-server and mosquitto,
 *                            a local cluster, fault runs, drawn footage (test/ imports them; only test/bench/, which tests the bench, imports bench/)
 *   cluster                  workers sharing streams over NATS: wires pipeline and nodes (the bench measures it)
 *   nodes | evaluation       siblings: neither imports the other
 *   viewer                   the dashboard page's code (browser): its own files and the viewer
 *                            protocol's types and constants (servers/viewer-protocol/protocol.ts), nothing else
 *   servers                  what servers and outputs share: listening, the one access policy, the
 *                            viewer protocol and its client channel, the outgoing queue, output
 *                            paths, the ffmpeg binary, the NATS connection and subjects
 *   pipeline                 packet types, node contract, config, graph, flow control
 *   lib                      formats, geometry, assignment, errors: what several layers share
 *
 * Inside nodes/ the folders are ordered too, in the direction a frame flows: a sink may use a
 * renderer's colours, a renderer may not use a sink.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Rank of each top-level folder: imports go to a lower rank, or stay in the same folder. */
const LAYER_RANK: Readonly<Record<string, number>> = {
  lib: 0,
  pipeline: 1,
  servers: 1.5,
  nodes: 2,
  evaluation: 2,
  viewer: 2,
  cluster: 2.5,
  testing: 2.75,
  bench: 3,
  cli: 4,
  scripts: 4,
  bin: 5,
};

/** nodes/ folders in the order a frame flows through them; `index.ts` lists them all, so it is last. */
const NODE_FOLDERS = ['sources', 'inference', 'heads', 'motion', 'fusion', 'tracking', 'analytics', 'render', 'sinks', 'index.ts'];

interface SourceFile {
  readonly file: string;
  readonly imports: readonly string[];
}

function sourceFiles(): SourceFile[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|js|mjs)$/.test(name)) files.push(full);
    }
  };
  for (const layer of Object.keys(LAYER_RANK)) {
    try {
      walk(path.join(ROOT, layer));
    } catch {
      // A layer folder that does not exist imports nothing.
    }
  }
  return files.map((file) => ({ file: path.relative(ROOT, file), imports: relativeImports(file) }));
}

/** Repo-relative targets of a file's relative imports, static, dynamic and `export … from`. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    found.push(path.relative(ROOT, path.resolve(path.dirname(file), match[1]!)));
  }
  return found;
}

/** What the page's code (viewer/, run in the browser) may import besides its own files. */
const PAGE_PROTOCOL = path.join('servers', 'viewer-protocol', 'protocol.ts');

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: string, to: string): string | undefined {
  const [fromLayer] = from.split(path.sep);
  const [toLayer] = to.split(path.sep);
  if (fromLayer === 'viewer' && toLayer !== 'viewer' && to !== PAGE_PROTOCOL) return `the page imports only viewer/ and ${PAGE_PROTOCOL}`;
  const fromRank = LAYER_RANK[fromLayer!];
  const toRank = LAYER_RANK[toLayer!];
  if (fromRank === undefined || toRank === undefined) return `${to} is outside the layered folders`;
  if (fromLayer === toLayer) {
    if (fromLayer !== 'nodes') return undefined;
    const fromFolder = NODE_FOLDERS.indexOf(from.split(path.sep)[1]!);
    const toFolder = NODE_FOLDERS.indexOf(to.split(path.sep)[1]!);
    if (fromFolder < 0 || toFolder < 0) return `nodes/ has a folder the layer rule does not know; add it to NODE_FOLDERS`;
    return toFolder <= fromFolder ? undefined : `nodes/${NODE_FOLDERS[toFolder]} comes after nodes/${NODE_FOLDERS[fromFolder]}`;
  }
  if (toRank < fromRank) return undefined;
  return toRank === fromRank ? `${fromLayer}/ and ${toLayer}/ are siblings` : `${toLayer}/ is above ${fromLayer}/`;
}

/** Each import cycle once, as the files around it. */
function cycles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.file, f.imports.filter((i) => i !== f.file)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('layers', () => {
  const files = sourceFiles();

  it('finds the source tree', () => {
    expect(files.some((f) => f.file.startsWith(`lib${path.sep}`))).toBe(true);
    expect(files.filter((f) => f.imports.length > 0).length).toBeGreaterThan(100);
  });

  it('no file imports from a layer above its own', () => {
    const upward = files.flatMap((f) =>
      f.imports.flatMap((to) => {
        const why = violation(f.file, to);
        return why ? [`${f.file} imports ${to}: ${why}`] : [];
      }),
    );
    expect(upward).toEqual([]);
  });

  it('no import cycles', () => {
    expect(cycles(files).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('would catch an upward import', () => {
    expect(violation(path.join('pipeline', 'load.ts'), path.join('nodes', 'index.ts'))).toBe('nodes/ is above pipeline/');
    expect(violation(path.join('nodes', 'sources', 'x.ts'), path.join('evaluation', 'mot', 'y.ts'))).toBe('nodes/ and evaluation/ are siblings');
    expect(violation(path.join('nodes', 'render', 'x.ts'), path.join('nodes', 'sinks', 'y.ts'))).toBe('nodes/sinks comes after nodes/render');
    expect(violation(path.join('cli', 'main.ts'), path.join('bench', 'pipeline-bench.ts'))).toBeUndefined();
    expect(violation(path.join('servers', 'access.ts'), path.join('nodes', 'sinks', 'x.ts'))).toBe('nodes/ is above servers/');
    expect(violation(path.join('nodes', 'sinks', 'x.ts'), path.join('servers', 'access.ts'))).toBeUndefined();
    expect(violation(path.join('testing', 'x.ts'), path.join('bench', 'stats.ts'))).toBe('bench/ is above testing/');
    expect(violation(path.join('viewer', 'app.ts'), PAGE_PROTOCOL)).toBeUndefined();
    expect(violation(path.join('viewer', 'app.ts'), path.join('servers', 'access.ts'))).toBe(`the page imports only viewer/ and ${PAGE_PROTOCOL}`);
    expect(violation(path.join('nodes', 'sinks', 'x.ts'), path.join('viewer', 'app.ts'))).toBe('nodes/ and viewer/ are siblings');
  });
});
