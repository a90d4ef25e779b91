/**
 * `panoptes run --source <pattern>` with numbered images that are not there: a usage mistake,
 * named before anything loads (the run itself on real images is in test/bench/accuracy.test.ts);
 * and a --source played once, even when the config loops its own demo clip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const IMAGES = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN/img1');

function run(source: string, ...more: string[]) {
  const result = spawnSync(process.execPath, [path.join(REPO, 'bin/panoptes.js'), 'run', 'configs/dashcam.yaml', '--source', source, ...more], {
    cwd: REPO,
    env: { ...process.env, PANOPTES_DATA: dataDir() },
    timeout: 300_000,
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

describe('panoptes run --source on a config that loops its demo clip', () => {
  it('plays the given input once and ends (configs/dashcam.yaml has loop: true)', { timeout: 300_000 }, () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-source-once-'));
    try {
      const events = path.join(scratch, 'events.jsonl');
      const { code, stderr } = run(path.join(IMAGES, '%06d.jpg'), '--no-realtime', '--events', events, '--port', '0');
      expect(code, stderr).toBe(0);
      const seqs = readFileSync(events, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
      expect(seqs).toEqual([0, 1, 2, 3]);
      expect(stderr).toMatch(/dashcam: 4 frames processed of 4 decoded/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
