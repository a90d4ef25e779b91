import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ffmpegPath, ffprobePath } from '../../servers/ffmpeg-binary.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-binary-'));

/** An executable shell script named `name` in a fresh directory of its own. */
function fakeExecutable(name: string): string {
  const dir = mkdtempSync(path.join(scratch, 'bin-'));
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('ffmpegPath / ffprobePath', () => {
  it('find a runnable binary and say where from', () => {
    for (const binary of [ffmpegPath(), ffprobePath()]) {
      expect(path.isAbsolute(binary.path)).toBe(true);
      expect(binary.from).toMatch(/^(env FF(MPEG|PROBE)_PATH|PATH|npm @ff(mpeg|probe)-installer\/ff(mpeg|probe) \(build .+\))$/);
    }
  });

  it('use the path in FFMPEG_PATH / FFPROBE_PATH first', () => {
    const ffmpeg = fakeExecutable('my-ffmpeg');
    const ffprobe = fakeExecutable('my-ffprobe');
    vi.stubEnv('FFMPEG_PATH', ffmpeg);
    vi.stubEnv('FFPROBE_PATH', ffprobe);
    expect(ffmpegPath()).toEqual({ path: ffmpeg, from: 'env FFMPEG_PATH' });
    expect(ffprobePath()).toEqual({ path: ffprobe, from: 'env FFPROBE_PATH' });
  });

  it('fail clearly when the env names a file that does not exist', () => {
    const missing = path.join(scratch, 'no-such-ffmpeg');
    vi.stubEnv('FFMPEG_PATH', missing);
    expect(() => ffmpegPath()).toThrow(`FFMPEG_PATH is set to ${missing}, but there is no such file`);
    vi.stubEnv('FFPROBE_PATH', missing);
    expect(() => ffprobePath()).toThrow(`FFPROBE_PATH is set to ${missing}, but there is no such file`);
  });

  it('take an ffmpeg on PATH before the packaged one', () => {
    const ffmpeg = fakeExecutable('ffmpeg');
    vi.stubEnv('FFMPEG_PATH', '');
    vi.stubEnv('PATH', `${path.join(scratch, 'nothing-here')}${path.delimiter}${path.dirname(ffmpeg)}`);
    expect(ffmpegPath()).toEqual({ path: ffmpeg, from: 'PATH' });
  });

  it('fall back to the npm package when there is none on PATH', () => {
    vi.stubEnv('FFMPEG_PATH', '');
    vi.stubEnv('FFPROBE_PATH', '');
    vi.stubEnv('PATH', path.join(scratch, 'empty'));
    expect(ffmpegPath().from).toMatch(/^npm @ffmpeg-installer\/ffmpeg/);
    expect(ffprobePath().from).toMatch(/^npm @ffprobe-installer\/ffprobe/);
  });
});
