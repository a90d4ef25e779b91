import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, take, toArray, type Observable } from 'rxjs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { releasePacket, type Frame, type FramePacket } from '../../pipeline/frame.ts';
import { ffmpegPath, ffprobePath } from '../../servers/ffmpeg-binary.ts';
import { ffmpegSource, ffmpegSourceOptions, outputSizeOf } from '../../nodes/sources/ffmpeg-source.ts';
import { chainContext, dataDir, type ChainContextOverrides, type TestChainContext } from '../helpers/data-dir.ts';
import { noise } from '../helpers/noise.ts';

const videos = path.join(dataDir(), 'replay/videos');
const SOLID_WHITE_RIGHT = 'replay/videos/solidWhiteRight.mp4'; // 960x540, 25 fps, 221 frames
const UDACITY = 'replay/videos/udacity_vehicle_detection_test_video.mp4'; // 1280x720, 25 fps, 38 frames
const WORKER_ZONE_GIF = 'replay/videos/intel_worker-zone-detection_preview.gif'; // 480x270, 15 fps, 71 frames

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-source-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});

async function openSource(options: Record<string, unknown>, overrides: ChainContextOverrides = {}) {
  const ctx = chainContext(overrides);
  const source = await ffmpegSource.create(ffmpegSourceOptions.parse(options), ctx);
  return { ctx, source };
}

/** Frames of a source, with their bytes hashed on arrival; each packet released right away. */
async function decodeAll(source: Observable<FramePacket>): Promise<{ frames: Frame[]; sha256: string }> {
  const hash = createHash('sha256');
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    source.subscribe({
      next: (packet) => {
        hash.update(packet.frame.data);
        frames.push(packet.frame);
        releasePacket(packet);
      },
      error: reject,
      complete: resolve,
    });
  });
  return { frames, sha256: hash.digest('hex') };
}

/** What ffprobe counts by decoding every frame (not the container's nb_frames). */
function countFrames(file: string): number {
  const out = execFileSync(ffprobePath().path, [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file,
  ]);
  return Number(out.toString().trim());
}

/** SHA-256 of what ffmpeg itself outputs for the whole clip as rgb24 at a constant `fps`. */
function referenceSha256(file: string, fps: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const child = spawn(ffmpegPath().path, [
      '-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-vsync', 'cfr', '-r', String(fps),
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ]);
    child.stdout.on('data', (chunk: Buffer) => hash.update(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(hash.digest('hex')) : reject(new Error(`reference ffmpeg exited ${code}`))));
  });
}

/** The pid of the ffmpeg a source started, from its debug line. */
function ffmpegPids(ctx: TestChainContext): number[] {
  return ctx.log.lines.flatMap((line) => {
    const match = /ffmpeg started \(pid (\d+)\)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // succeeds for a zombie too: gone means exited *and* reaped
    return true;
  } catch {
    return false;
  }
}

/** Children of this process whose command is ffmpeg, from /proc (Linux); [] elsewhere. */
function ffmpegChildren(): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === process.pid && command === 'ffmpeg' ? [Number(entry)] : [];
    } catch {
      return []; // exited while we looked
    }
  });
}

async function expectFfmpegGone(ctx: TestChainContext): Promise<void> {
  const pids = ffmpegPids(ctx);
  expect(pids.length).toBeGreaterThan(0);
  await vi.waitFor(() => expect(pids.filter(isRunning)).toEqual([]), { timeout: 10_000, interval: 20 });
  expect(ffmpegChildren().filter((pid) => pids.includes(pid))).toEqual([]);
}

describe('ffmpeg source', () => {
  it('decodes every frame of an mp4, exactly, at ptsMs = seq * 1000 / fps', async () => {
    const { ctx, source } = await openSource({ uri: SOLID_WHITE_RIGHT, realtime: false });
    const file = path.join(videos, 'solidWhiteRight.mp4');
    const [{ frames, sha256 }, reference] = await Promise.all([decodeAll(source), referenceSha256(file, 25)]);

    expect(frames.length).toBe(countFrames(file));
    frames.forEach((frame, k) => {
      expect(frame).toMatchObject({ stream: 'test', seq: k, ptsMs: k * 40, width: 960, height: 540 });
      expect(frame.data.length).toBe(960 * 540 * 3);
    });
    expect(sha256).toBe(reference);
    expect(ctx.metrics.snapshot()[0]).toMatchObject({ decoded: frames.length, dropped: 0 });
    expect(ctx.log.lines).toContainEqual(
      expect.stringMatching(/^info .*replay\/videos\/solidWhiteRight\.mp4: 960x540 @ 25 fps, ffmpeg from \S/),
    );
    await expectFfmpegGone(ctx);
  });

  it('decodes a GIF', async () => {
    const { source } = await openSource({ uri: WORKER_ZONE_GIF, realtime: false });
    const { frames } = await decodeAll(source);
    // cfr output puts the GIF's 60/70 ms frame delays on a 1/15 s grid: the same count, give or take one.
    expect(Math.abs(frames.length - countFrames(path.join(videos, 'intel_worker-zone-detection_preview.gif')))).toBeLessThanOrEqual(1);
    frames.forEach((frame, k) => expect(frame).toMatchObject({ seq: k, ptsMs: (k * 1000) / 15, width: 480, height: 270 }));
  });

  it.each([
    [{ width: 480 }, 480, 270],
    [{ width: 500 }, 500, 282], // 281.25 rounded to an even height
    [{ width: 320, height: 240 }, 320, 240],
  ])('resizes to %j', async (resize, width, height) => {
    expect(outputSizeOf({ width: 960, height: 540 }, resize)).toEqual({ width, height });
    const { ctx, source } = await openSource({ uri: SOLID_WHITE_RIGHT, realtime: false, resize, maxFrames: 3 });
    const { frames } = await decodeAll(source);
    expect(frames.map((f) => [f.width, f.height, f.data.length])).toEqual(Array(3).fill([width, height, width * height * 3]));
    expect(ctx.log.lines.some((line) => line.includes(`(resized to ${width}x${height})`))).toBe(true);
  });

  it('takes a file:// URL as a file', async () => {
    const uri = pathToFileURL(path.join(videos, 'udacity_vehicle_detection_test_video.mp4')).href;
    const { source } = await openSource({ uri, realtime: false, maxFrames: 2 });
    const { frames } = await decodeAll(source);
    expect(frames.map((f) => [f.seq, f.ptsMs, f.width])).toEqual([[0, 0, 1280], [1, 40, 1280]]);
  });

  it('loops a file and completes after exactly maxFrames, stopping ffmpeg', async () => {
    const { ctx, source } = await openSource({ uri: UDACITY, realtime: false, loop: true, maxFrames: 100 });
    const { frames } = await decodeAll(source);
    expect(frames.map((f) => f.seq)).toEqual([...Array(100).keys()]);
    expect(frames.map((f) => f.ptsMs)).toEqual([...Array(100).keys()].map((k) => k * 40));
    await expectFfmpegGone(ctx);
  });

  it('lossless: waits for a slow consumer, losing no frame and never exceeding poolSize buffers', async () => {
    const poolSize = 3;
    const { ctx, source } = await openSource({ uri: UDACITY, realtime: false, poolSize }, { lossless: true });
    const hash = createHash('sha256');
    const seqs: number[] = [];
    let held: FramePacket[] = [];
    let outstanding = 0;
    let maxOutstanding = 0;
    const releaseHeld = () => {
      for (const packet of held) {
        releasePacket(packet);
        outstanding--;
      }
      held = [];
    };
    await new Promise<void>((resolve, reject) => {
      source.subscribe({
        next: (packet) => {
          hash.update(packet.frame.data);
          seqs.push(packet.frame.seq);
          outstanding++;
          maxOutstanding = Math.max(maxOutstanding, outstanding);
          held.push(packet);
          // Hold every buffer there is, then give them all back a little later: the source must
          // wait meanwhile, and must not write into a buffer that is still held.
          if (held.length === poolSize) setTimeout(releaseHeld, 15);
        },
        error: reject,
        complete: resolve,
      });
    });
    releaseHeld();

    expect(seqs).toEqual([...Array(38).keys()]);
    expect(maxOutstanding).toBe(poolSize);
    expect(hash.digest('hex')).toBe(await referenceSha256(path.join(videos, 'udacity_vehicle_detection_test_video.mp4'), 25));
    expect(ctx.metrics.snapshot()[0]).toMatchObject({ decoded: 38, dropped: 0 });
  });

  it('live: drops at the source when the consumer holds every buffer, and counts the drops', async () => {
    const { ctx, source } = await openSource({ uri: UDACITY, realtime: false, poolSize: 4 }, { lossless: false });
    const packets = await lastValueFrom(source.pipe(toArray())); // never released
    expect(packets.map((p) => p.frame.seq)).toEqual([0, 1, 2, 3]);
    expect(ctx.metrics.snapshot()[0]).toMatchObject({ decoded: 38, drops: { source: 34 }, dropped: 34 });
    packets.forEach(releasePacket);
  });

  it('reads a stream URL as live: passed through, stamped with the time since its first frame', async () => {
    const server = await serveFile(path.join(videos, 'solidWhiteRight.mp4'));
    try {
      const { port } = server.address() as AddressInfo;
      // A stream URL is restarted when it ends; maxFrames ends this one after the clip's frames.
      const { source } = await openSource({ uri: `http://127.0.0.1:${port}/clip.mp4`, maxFrames: 221 }, { lossless: false });
      const { frames } = await decodeAll(source);
      expect(frames.length).toBe(221); // released at once, so none dropped
      expect(frames[0]!.ptsMs).toBe(0);
      for (let k = 1; k < frames.length; k++) expect(frames[k]!.ptsMs).toBeGreaterThanOrEqual(frames[k - 1]!.ptsMs);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('fails a stream URL that ends when reconnect is off: a camera does not end by itself', async () => {
    const server = await serveFile(path.join(videos, 'udacity_vehicle_detection_test_video.mp4'));
    try {
      const { port } = server.address() as AddressInfo;
      const uri = `http://127.0.0.1:${port}/clip.mp4`;
      const { ctx, source } = await openSource({ uri, reconnect: false }, { lossless: false });
      const failure = decodeAll(source);
      await expect(failure).rejects.toThrow(`${uri}: the stream ended (ffmpeg exited 0 after 38 frames); reconnect is off`);
      expect(ctx.metrics.snapshot()[0]).toMatchObject({ decoded: 38, reconnects: 0 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('warns, naming the file, when a file ends before the frames its container announces', async () => {
    // The first 40% of an mp4 whose index (moov) comes first: it probes as whole, decodes a part.
    const whole = readFileSync(path.join(videos, 'solidWhiteRight.mp4'));
    const truncated = path.join(scratch, 'truncated.mp4');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.4)));
    const { ctx, source } = await openSource({ uri: truncated, realtime: false });
    const { frames } = await decodeAll(source);
    expect(frames.length).toBeLessThan(221);
    expect(ctx.log.lines.some((line) => line.includes(`${truncated}: the video ended early, after ${frames.length} of the 221 frames`))).toBe(true);
  });

  it('fails at build time on a missing file, naming it', async () => {
    const missing = path.join(videos, 'no-such-clip.mp4');
    await expect(openSource({ uri: 'replay/videos/no-such-clip.mp4' })).rejects.toThrow(
      `video not found: ${missing} — check the path, or set PANOPTES_DATA / the source's uri`,
    );
  });

  it('fails at build time on a corrupt file, naming it', async () => {
    const corrupt = path.join(scratch, 'corrupt.mp4');
    writeFileSync(corrupt, noise(256 * 1024));
    await expect(openSource({ uri: corrupt })).rejects.toThrow(`cannot read video ${corrupt}: Invalid data found when processing input`);
  });

  it("errors with the uri and ffmpeg's last stderr lines when ffmpeg exits non-zero", async () => {
    // A stand-in ffmpeg that answers fluent-ffmpeg's capability queries and the probe (-hide_banner
    // -nostdin -i <file>) with the real one, then fails.
    const fake = path.join(scratch, 'failing-ffmpeg');
    writeFileSync(
      fake,
      `#!/bin/sh
case "$1" in -formats|-codecs|-encoders|-filters|-hide_banner) exec "${ffmpegPath().path}" "$@" ;; esac
echo "first complaint" >&2
echo "decoder exploded at frame 3" >&2
exit 3
`,
    );
    chmodSync(fake, 0o755);
    vi.stubEnv('FFMPEG_PATH', fake);
    const { source } = await openSource({ uri: UDACITY, realtime: false });
    const failure = decodeAll(source);
    await expect(failure).rejects.toThrow(`ffmpeg failed reading ${UDACITY}: exited with code 3`);
    await expect(failure).rejects.toThrow(/first complaint\n\s+decoder exploded at frame 3/);
  });

  it('kills ffmpeg when the subscriber unsubscribes early', async () => {
    const { ctx, source } = await openSource({ uri: SOLID_WHITE_RIGHT, realtime: true });
    const first = await lastValueFrom(source.pipe(take(3), toArray()));
    expect(first.map((p) => p.frame.seq)).toEqual([0, 1, 2]);
    first.forEach(releasePacket);
    await expectFfmpegGone(ctx);
  });

  it('leaves no ffmpeg behind when unsubscribed before the process has even started', async () => {
    const { ctx, source } = await openSource({ uri: SOLID_WHITE_RIGHT, realtime: true });
    source.subscribe().unsubscribe();
    await vi.waitFor(() => expect(ffmpegPids(ctx).length).toBe(1), { timeout: 10_000, interval: 20 });
    await expectFfmpegGone(ctx);
  });

  it('completes and kills ffmpeg when the pipeline aborts', async () => {
    const { ctx, source } = await openSource({ uri: SOLID_WHITE_RIGHT, realtime: true });
    const seqs: number[] = [];
    await new Promise<void>((resolve, reject) => {
      source.subscribe({
        next: (packet) => {
          seqs.push(packet.frame.seq);
          releasePacket(packet);
          if (seqs.length === 2) ctx.abort();
        },
        error: reject,
        complete: resolve,
      });
    });
    expect(seqs).toEqual([0, 1]);
    await expectFfmpegGone(ctx);
  });
});

describe('ffmpeg source options', () => {
  it('fills in defaults', () => {
    expect(ffmpegSourceOptions.parse({ uri: 'a.mp4' })).toEqual({ uri: 'a.mp4', realtime: true, loop: false, poolSize: 12 });
  });

  it('asks for a lossless stream only for a file decoded as fast as it goes', () => {
    const lossless = (options: Record<string, unknown>) => ffmpegSource.lossless?.(ffmpegSourceOptions.parse(options));
    expect(lossless({ uri: 'a.mp4', realtime: false })).toBe(true);
    expect(lossless({ uri: 'a.mp4' })).toBe(false);
    expect(lossless({ uri: 'rtsp://camera/1', realtime: false })).toBe(false);
  });

  it('rejects what is not an option, or out of range', () => {
    expect(ffmpegSourceOptions.safeParse({}).success).toBe(false);
    expect(ffmpegSourceOptions.safeParse({ uri: 'a.mp4', maxFrame: 3 }).success).toBe(false);
    expect(ffmpegSourceOptions.safeParse({ uri: 'a.mp4', maxFrames: 0 }).success).toBe(false);
    expect(ffmpegSourceOptions.safeParse({ uri: 'a.mp4', poolSize: 0 }).success).toBe(false);
    expect(ffmpegSourceOptions.safeParse({ uri: 'a.mp4', resize: { height: 100 } }).success).toBe(false);
  });
});

/** A one-file HTTP server on a free local port, with byte ranges (ffmpeg seeks in an mp4). */
function serveFile(file: string): Promise<Server> {
  const size = statSync(file).size;
  const server = createServer((request, response) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) : size - 1;
    response.writeHead(range ? 206 : 200, {
      'content-type': 'video/mp4',
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(range && { 'content-range': `bytes ${start}-${end}/${size}` }),
    });
    const body = createReadStream(file, { start, end });
    // ffmpeg drops a connection when it seeks elsewhere.
    response.on('close', () => body.destroy());
    body.pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
