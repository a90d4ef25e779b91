/**
 * A node that edits the frame's pixels (redact, `updates: ['frame']`) is in the contract: the
 * graph takes it on a line of its own before the overlay, and refuses it beside another node in a
 * parallel block or after the overlay (`copies: ['frame']`), naming both, as config errors (exit 2)
 * reported with the others.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinNodes } from '../../nodes/index.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-pixel-edits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A config whose pipeline ends with `tail` (YAML lines, indented as pipeline entries). */
function configFile(name: string, tail: string): string {
  const file = path.join(scratch, name);
  writeFileSync(
    file,
    `dataDir: ${dataDir()}
sources:
  - { id: cam, type: ffmpeg, uri: replay/videos/solidWhiteRight.mp4, realtime: false }
pipeline:
  - parallel:
      - { type: semantic-segmentation, model: espnetv2-s1.5 }
      - { type: instance-segmentation, model: yolov8n-seg-320 }
  - { type: panoptic-fusion }
${tail}
`,
  );
  return file;
}

const errorOf = (file: string): string => {
  try {
    loadPipeline(file, builtinNodes());
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${file} was accepted`);
};

const PARALLEL = `  - parallel:
      - { type: redact, classes: [car] }
      - { type: overlay }`;
const AFTER = `  - { type: overlay }
  - { type: redact, classes: [car] }`;

describe('a node that edits the pixels', () => {
  it('is accepted on its own line before the overlay', () => {
    const { spec } = loadPipeline(configFile('before.yaml', '  - { type: redact, classes: [car] }\n  - { type: overlay }'), builtinNodes());
    expect(spec.pipeline.map((step) => step.label)).toEqual(['semantic-segmentation+instance-segmentation', 'panoptic-fusion', 'redact', 'overlay']);
  });

  it('is refused in a parallel block beside the overlay, naming both', () => {
    const file = configFile('parallel.yaml', PARALLEL);
    expect(errorOf(file)).toBe(
      `${file}: pipeline[2].parallel: redact and overlay are in one parallel block, but redact edits the frame's pixels, ` +
        `which the nodes beside it share (a parallel block gives them one frame); put redact on its own line before overlay`,
    );
  });

  it('is refused in a parallel block beside any node, by its label', () => {
    const file = configFile('parallel-tracker.yaml', `  - parallel:
      - { type: tracker }
      - { type: redact, name: blur-plates, classes: [car] }
  - { type: overlay }`);
    expect(errorOf(file)).toBe(
      `${file}: pipeline[2].parallel: blur-plates and tracker are in one parallel block, but blur-plates edits the frame's pixels, ` +
        `which the nodes beside it share (a parallel block gives them one frame); put blur-plates on its own line before or after the block`,
    );
  });

  it('is refused after the overlay, naming both', () => {
    const file = configFile('after.yaml', AFTER);
    expect(errorOf(file)).toBe(
      `${file}: pipeline[3] (redact) edits the frame's pixels after overlay (pipeline[2]) has drawn them into "overlay", ` +
        `so what is shown from it would not have the edit; move redact before overlay`,
    );
  });

  it('is reported with every other problem of the config in one run', () => {
    const file = configFile('all.yaml', `${PARALLEL.replace('{ type: overlay }', '{ type: overlay, alhpa: 0.5 }')}
  - { type: overlay, name: again }
  - { type: redact, classes: [car], mode: smudge }
  - { type: redact, name: late, classes: [person] }`);
    expect(errorOf(file).split('\n')).toEqual([
      `${file}: pipeline[2].parallel[1]: Unrecognized key: "alhpa"; did you mean "alpha" (for "alhpa")?`,
      expect.stringMatching(/^.*: pipeline\[2\]\.parallel: redact and overlay are in one parallel block, .*; put redact on its own line before overlay$/),
      expect.stringMatching(/^.*: pipeline\[4\]\.mode: Invalid option: expected one of "blur"\|"fill", found "smudge"$/),
      `${file}: pipeline[4] (redact) edits the frame's pixels after overlay (pipeline[3]) has drawn them into "overlay", so what is shown from it would not have the edit; move redact before overlay`,
      `${file}: pipeline[5] (redact) edits the frame's pixels after overlay (pipeline[3]) has drawn them into "overlay", so what is shown from it would not have the edit; move redact before overlay`,
    ]);
  });

  it('refused, makes panoptes run exit 2 with the message, before any model loads', async () => {
    const file = configFile('cli.yaml', PARALLEL);
    const child = spawn(process.execPath, [path.join(REPO, 'bin/panoptes.js'), 'run', file], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('redact and overlay are in one parallel block, but redact edits the frame\'s pixels');
    expect(stderr).toContain('put redact on its own line before overlay');
  });
});
