/**
 * Broken configs, missing or wrong models and missing clips: each fails before anything runs,
 * with a message that names the problem and the fix.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGraph } from '../../pipeline/graph.ts';
import { stepOperators } from '../../pipeline/config/resolve.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { builtinNodes } from '../../nodes/index.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function configFile(name: string, yaml: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, yaml);
  return file;
}

const GOOD = `
dataDir: ${dataDir()}
sources:
  - { id: cam, type: ffmpeg, uri: replay/videos/solidWhiteRight.mp4, realtime: false }
pipeline:
  - { type: semantic-segmentation, model: espnetv2-s1.5 }
  - { type: panoptic-fusion }
`;

const SEMANTIC = '{ type: semantic-segmentation, model: espnetv2-s1.5 }';
const INSTANCE = '{ type: instance-segmentation, model: yolov8n-seg-320 }';

/** GOOD with its semantic-segmentation entry replaced by a parallel block of `branches`. */
function withBlock(branches: readonly string[], name?: string): string {
  const head = name ? `  - name: ${name}\n    parallel:` : '  - parallel:';
  return GOOD.replace(`  - ${SEMANTIC}`, [head, ...branches.map((branch) => `      - ${branch}`)].join('\n'));
}

async function buildFrom(file: string, data?: string) {
  const saved = process.env.PANOPTES_DATA;
  if (data) process.env.PANOPTES_DATA = data;
  else delete process.env.PANOPTES_DATA;
  try {
    const { spec, dataDir: dir } = loadPipeline(file, builtinNodes());
    const graph = await buildGraph(spec, { dataDir: dir, log: createMemoryLogger() });
    await graph.stop();
  } finally {
    if (saved === undefined) delete process.env.PANOPTES_DATA;
    else process.env.PANOPTES_DATA = saved;
  }
}

describe('config errors name the file, the key, what was expected and what was found', () => {
  it('accepts a good config', () => {
    const { spec } = loadPipeline(configFile('good.yaml', GOOD), builtinNodes());
    expect(spec.pipeline.map((p) => p.label)).toEqual(['semantic-segmentation', 'panoptic-fusion']);
  });

  it('YAML syntax errors give the line', () => {
    const file = configFile('syntax.yaml', 'sources:\n  - { id: cam, type: ffmpeg\n');
    expect(() => loadPipeline(file, builtinNodes())).toThrow(new RegExp(`${file}: line \\d+`));
  });

  it('a wrong value type names the key path and the value found', () => {
    const file = configFile('type.yaml', GOOD.replace('{ type: panoptic-fusion }', '{ type: panoptic-fusion, minArea: lots }'));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(`${file}: pipeline[1].minArea: Invalid input: expected number, received string, found "lots"`);
  });

  it('a misspelt option is rejected, not ignored', () => {
    const file = configFile('typo.yaml', GOOD.replace('{ type: panoptic-fusion }', '{ type: panoptic-fusion, minAera: 10 }'));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(/pipeline\[1\]: Unrecognized key: "minAera"/);
  });

  it('every unknown key, at every level, is reported in one run, each with its fix, beside the other mistakes', () => {
    const file = configFile(
      'unknown-everywhere.yaml',
      `frameTimeout: 2000
dataDir: ${dataDir()}
sources:
  - { id: cam, type: ffmpeg, uri: replay/videos/solidWhiteRight.mp4, loops: true, resize: { width: 320, heigth: 180 } }
pipeline:
  - parallel:
      - { type: semantic-segmentation, model: espnetv2-s1.5 }
      - { type: instance-segmentation, model: yolov8n-seg-320, minScor: 0.3 }
  - { type: panoptic-fusion, minArea: lots, colour: red }
  - { type: fusion }
sinks:
  - { type: viewer, port: 0, prot: 8080 }
`,
    );
    let message = '';
    try {
      loadPipeline(file, builtinNodes());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      `${file}: (top level): Unrecognized key: "frameTimeout"; did you mean "frameTimeoutMs" (for "frameTimeout")?`,
      `${file}: sources[0].resize: Unrecognized key: "heigth"; did you mean "height" (for "heigth")?`,
      `${file}: sources[0]: Unrecognized key: "loops"; did you mean "loop" (for "loops")?`,
      `${file}: pipeline[0].parallel[1]: Unrecognized key: "minScor"; did you mean "minScore" (for "minScor")?`,
      `${file}: pipeline[1].minArea: Invalid input: expected number, received string, found "lots"`,
      expect.stringMatching(new RegExp(`^${file}: pipeline\\[1\\]: Unrecognized key: "colour"; the keys here are minArea, `)),
      expect.stringMatching(new RegExp(`^${file}: pipeline\\[2\\]\\.type: unknown operator type "fusion"; expected one of: `)),
      `${file}: sinks[0]: Unrecognized key: "prot"; did you mean "port" (for "prot")?`,
    ]);
  });

  it('an unknown key in an object a node declares plain (not strict) is reported too, not dropped', async () => {
    const { z } = await import('zod');
    const { explainProblems } = await import('../../pipeline/config/validation.ts');
    const schema = z.strictObject({ box: z.object({ width: z.number() }).optional(), list: z.array(z.object({ name: z.string() })).default([]) });
    expect(explainProblems(schema, { box: { width: 1, widht: 2 }, list: [{ name: 'a' }, { name: 'b', nmae: 'c' }] }, { file: 'f', unknownKeysEverywhere: true }).lines).toEqual([
      'f: box: Unrecognized key: "widht"; did you mean "width" (for "widht")?',
      'f: list[1]: Unrecognized key: "nmae"; did you mean "name" (for "nmae")?',
    ]);
  });

  it('an unknown node type lists the known ones', () => {
    const file = configFile('unknown.yaml', GOOD.replace('type: panoptic-fusion', 'type: fusion'));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(
      /pipeline\[1\]\.type: unknown operator type "fusion"; expected one of: .*panoptic-fusion/,
    );
  });

  it('nodes in the wrong order are caught when the graph is resolved', () => {
    const file = configFile(
      'order.yaml',
      GOOD.replace(
        '  - { type: semantic-segmentation, model: espnetv2-s1.5 }\n  - { type: panoptic-fusion }',
        '  - { type: panoptic-fusion }\n  - { type: semantic-segmentation, model: espnetv2-s1.5 }',
      ),
    );
    expect(() => loadPipeline(file, builtinNodes())).toThrow(
      /pipeline\[0\] \(panoptic-fusion\) needs "semantic", which no node before it adds; put one of semantic-segmentation before it/,
    );
  });

  it('a tracker before panoptic-fusion is refused with the fix (it would carry no track ids)', () => {
    const file = configFile(
      'tracker-first.yaml',
      GOOD.replace(
        `  - ${SEMANTIC}\n  - { type: panoptic-fusion }`,
        `  - ${SEMANTIC}\n  - ${INSTANCE}\n  - { type: tracker }\n  - { type: panoptic-fusion }`,
      ),
    );
    expect(() => loadPipeline(file, builtinNodes())).toThrow(
      `${file}: pipeline[2] (tracker) works on "panoptic", which panoptic-fusion adds only after it (pipeline[3]); move tracker after panoptic-fusion`,
    );
  });

  it('a tracker on detections alone, with nothing after it that adds panoptic, is accepted', () => {
    const file = configFile(
      'tracker-instances.yaml',
      GOOD.replace(`  - ${SEMANTIC}\n  - { type: panoptic-fusion }`, `  - ${INSTANCE}\n  - { type: tracker }`),
    );
    expect(loadPipeline(file, builtinNodes()).spec.pipeline.map((p) => p.label)).toEqual(['instance-segmentation', 'tracker']);
  });

  it('a config path that is a folder is named, with what to give instead', () => {
    expect(() => loadPipeline(scratch, builtinNodes())).toThrow(`${scratch} is a folder, not a config file: name a .yaml file in it`);
  });

  it('a parallel block resolves to one step whose branches see what comes before it', () => {
    const file = configFile('parallel.yaml', withBlock([SEMANTIC, INSTANCE]));
    const { spec } = loadPipeline(file, builtinNodes());
    expect(spec.pipeline.map((step) => step.label)).toEqual(['semantic-segmentation+instance-segmentation', 'panoptic-fusion']);
    expect(spec.pipeline.flatMap(stepOperators).map((op) => op.label)).toEqual(['semantic-segmentation', 'instance-segmentation', 'panoptic-fusion']);
  });

  it('a branch of a parallel block cannot use what another branch adds', () => {
    const file = configFile('parallel-order.yaml', withBlock([SEMANTIC, '{ type: panoptic-fusion }']).replace(/\n  - \{ type: panoptic-fusion \}/, ''));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(/pipeline\[0\]\.parallel\[1\] \(panoptic-fusion\) needs "semantic", which no node before it adds/);
  });

  it('two branches writing the same section, or a block of one, are refused with the fix', () => {
    const twice = configFile('parallel-twice.yaml', withBlock([SEMANTIC, '{ type: semantic-segmentation, model: espnet-p2q8 }'], 'models'));
    expect(() => loadPipeline(twice, builtinNodes())).toThrow(
      /pipeline\[0\]\.parallel: semantic-segmentation and semantic-segmentation#2 both write "semantic"; keep one of them, or chain them/,
    );
    const single = configFile('parallel-one.yaml', withBlock([SEMANTIC]));
    expect(() => loadPipeline(single, builtinNodes())).toThrow(/pipeline\[0\]\.parallel: at least two nodes \(a single node needs no parallel block\)/);
  });

  it('a branch cannot read what another branch rewrites, and a block cannot take an operator\'s label', () => {
    const rewrite = configFile(
      'parallel-rewrite.yaml',
      GOOD.replace(
        '  - { type: panoptic-fusion }',
        '  - { type: panoptic-fusion }\n  - parallel:\n      - { type: tracker }\n      - { type: overlay }',
      ),
    );
    expect(() => loadPipeline(rewrite, builtinNodes())).toThrow(/pipeline\[2\]\.parallel: overlay reads "panoptic", which tracker writes beside it; chain them/);
    const named = configFile('parallel-named.yaml', withBlock([SEMANTIC, INSTANCE], 'panoptic-fusion'));
    expect(() => loadPipeline(named, builtinNodes())).toThrow(/pipeline: the label "panoptic-fusion" is used twice; give the parallel block another name/);
  });

  it('a node entry with a parallel key stays a node, whose options refuse the key', () => {
    const file = configFile('node-parallel.yaml', GOOD.replace('{ type: panoptic-fusion }', '{ type: panoptic-fusion, parallel: 3 }'));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(/pipeline\[1\]: Unrecognized key: "parallel"/);
  });

  it('an entry that is neither a node nor a parallel block is explained as the nearer of the two', () => {
    const file = configFile('notype.yaml', GOOD.replace('{ type: panoptic-fusion }', '{ minArea: 64 }'));
    expect(() => loadPipeline(file, builtinNodes())).toThrow(`${file}: pipeline[1].type: Invalid input: expected string, received undefined`);
  });

  it('the watchdog\'s frameTimeoutMs defaults to 5 s, is taken from the top of the file, and a bad one is named', () => {
    expect(loadPipeline(configFile('timeout-default.yaml', GOOD), builtinNodes()).spec.frameTimeoutMs).toBe(5000);
    expect(loadPipeline(configFile('timeout-set.yaml', `frameTimeoutMs: 2000\n${GOOD}`), builtinNodes()).spec.frameTimeoutMs).toBe(2000);
    const zero = configFile('timeout-zero.yaml', `frameTimeoutMs: 0\n${GOOD}`);
    expect(() => loadPipeline(zero, builtinNodes())).toThrow(`${zero}: frameTimeoutMs: Too small: expected number to be >0, found 0`);
    const text = configFile('timeout-text.yaml', `frameTimeoutMs: 5s\n${GOOD}`);
    expect(() => loadPipeline(text, builtinNodes())).toThrow(`${text}: frameTimeoutMs: Invalid input: expected number, received string, found "5s"`);
  });

  it('a config without sources says so', () => {
    const file = configFile('nosources.yaml', 'sources: []\n');
    expect(() => loadPipeline(file, builtinNodes())).toThrow(/sources: .*at least one source/);
  });

  it('a missing config file names it', () => {
    expect(() => loadPipeline(path.join(scratch, 'nope.yaml'), builtinNodes())).toThrow(/config not found: .*nope\.yaml/);
  });

  it('a missing data directory says how to point at one', () => {
    const file = configFile('nodata.yaml', GOOD.replace(`dataDir: ${dataDir()}`, 'dataDir: ./no-such-folder'));
    // PANOPTES_DATA would win over the config's dataDir (CI sets it).
    const saved = process.env.PANOPTES_DATA;
    delete process.env.PANOPTES_DATA;
    try {
      expect(() => loadPipeline(file, builtinNodes())).toThrow(/data directory not found: .*no-such-folder \(from dataDir in .*nodata\.yaml\)\. .*PANOPTES_DATA/);
    } finally {
      if (saved !== undefined) process.env.PANOPTES_DATA = saved;
    }
  });

  it('PANOPTES_DATA wins over the config, and a wrong one is named as the source of the problem', () => {
    const saved = process.env.PANOPTES_DATA;
    process.env.PANOPTES_DATA = path.join(scratch, 'not-here');
    try {
      expect(() => loadPipeline(configFile('envdata.yaml', GOOD), builtinNodes())).toThrow(/data directory not found: .*not-here \(from PANOPTES_DATA\)/);
    } finally {
      if (saved === undefined) delete process.env.PANOPTES_DATA;
      else process.env.PANOPTES_DATA = saved;
    }
  });
});

describe('data problems fail while the graph is built', () => {
  it('a missing clip names the file', async () => {
    const file = configFile('noclip.yaml', GOOD.replace('solidWhiteRight.mp4', 'no-such-clip.mp4'));
    await expect(buildFrom(file)).rejects.toThrow(/video not found: .*no-such-clip\.mp4/);
  });

  it('a missing model names the file, the catalog entry and the data directory', async () => {
    const data = path.join(scratch, 'data-without-models');
    mkdirSync(path.join(data, 'replay/videos'), { recursive: true });
    copyFileSync(path.join(dataDir(), 'replay/videos/solidWhiteRight.mp4'), path.join(data, 'replay/videos/solidWhiteRight.mp4'));
    await expect(buildFrom(configFile('nomodel.yaml', GOOD), data)).rejects.toThrow(
      /model "espnetv2-s1\.5" not found: .*espnetv2_cityscapes_s1\.5_512x256\.onnx does not exist.*PANOPTES_DATA/,
    );
  });

  it('a model file that is not the catalog’s model fails its checksum', async () => {
    const data = path.join(scratch, 'data-with-wrong-model');
    mkdirSync(path.join(data, 'models'), { recursive: true });
    mkdirSync(path.join(data, 'replay/videos'), { recursive: true });
    copyFileSync(path.join(dataDir(), 'replay/videos/solidWhiteRight.mp4'), path.join(data, 'replay/videos/solidWhiteRight.mp4'));
    // Another real model under the expected name: loads fine, but is the wrong network.
    writeFileSync(
      path.join(data, 'models/espnetv2_cityscapes_s1.5_512x256.onnx'),
      readFileSync(path.join(dataDir(), 'models/espnet_cityscapes_p2q8.onnx')),
    );
    await expect(buildFrom(configFile('wrongmodel.yaml', GOOD), data)).rejects.toThrow(
      /checksum mismatch for .*espnetv2_cityscapes_s1\.5_512x256\.onnx: expected sha256 6ff2c3ea.*, found abca72da/,
    );
  });

  it('an unknown model lists the catalog', async () => {
    const file = configFile('unknownmodel.yaml', GOOD.replace('model: espnetv2-s1.5', 'model: espnet-v9'));
    await expect(buildFrom(file)).rejects.toThrow(/unknown model "espnet-v9": the catalog has espnetv2-s1\.5, /);
  });
});
