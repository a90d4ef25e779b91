/**
 * `panoptes run --source <pattern>` with numbered images that are not there: a usage mistake,
 * named before anything loads (the run itself on real images is in test/bench/accuracy.test.ts).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const IMAGES = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN/img1');

function run(source: string) {
  const result = spawnSync(process.execPath, [path.join(REPO, 'bin/panoptes.js'), 'run', 'configs/dashcam.yaml', '--source', source], {
    cwd: REPO,
    env: { ...process.env, PANOPTES_DATA: dataDir() },
  });
  return { code: result.status, stderr: result.stderr.toString() };
}

describe('panoptes run --source <numbered images>', () => {
  it('names the pattern when no image matches it', () => {
    const { code, stderr } = run(path.join(IMAGES, '%04d.jpg'));
    expect(code).toBe(2);
    expect(stderr).toContain(`--source: image sequence not found: no file in ${IMAGES} matches %04d.jpg (e.g. 0001.jpg)`);
  });

  it('names the folder when it does not exist', () => {
    const { code, stderr } = run(path.join(IMAGES, 'no-such-folder', '%06d.jpg'));
    expect(code).toBe(2);
    expect(stderr).toContain(`--source: image sequence not found: the folder ${path.join(IMAGES, 'no-such-folder')} does not exist`);
  });
});
