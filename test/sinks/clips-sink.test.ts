/**
 * Event clips through the real ffmpeg and real files: hand-made packets of real JPEGs at 25 fps
 * with a few line and zone events; each clip is read back with ffprobe (its timestamps around its
 * events, that it decodes), close events share a clip, the snapshot is the crop around the box,
 * and retention removes the oldest files first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { nameEvents } from '../../nodes/analytics/event-id.ts';
import { clipsSink } from '../../nodes/sinks/clips/clips-sink.ts';
import { applyRetention } from '../../nodes/sinks/clips/retention.ts';
import { ffmpegPath, ffprobePath } from '../../servers/ffmpeg-binary.ts';
import type { FramePacket, TrackedObject } from '../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../pipeline/analytics-types.ts';
import { packetOf } from '../../pipeline/frame.ts';
import { graphContext } from '../helpers/data-dir.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-clips-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const W = 320;
const H = 180;
const FRAME_MS = 40;

async function jpegOf(shade: number): Promise<Buffer> {
  return sharp(new Uint8Array(W * H * 3).fill(shade), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
}

function track(trackId: number, bbox: readonly [number, number, number, number]): TrackedObject {
  return { trackId, state: 'confirmed', classId: 0, className: 'car', bbox, score: 0.9, ageMs: 0, hits: 5 };
}

/** Wall-clock capture time of the frame at `ptsMs` (see `packetAt`). */
const capturedAt = (ptsMs: number) => 1_700_000_000_000 + ptsMs;

function lineEvent(trackId: number, ptsMs: number): AnalyticsEvent {
  return nameEvents([{ type: 'line', stream: 'cam', line: 'road', trackId, className: 'car', direction: 'in', ptsMs }], capturedAt(ptsMs), ptsMs / FRAME_MS)[0]!;
}

function zoneEvent(trackId: number, ptsMs: number): AnalyticsEvent {
  return nameEvents([{ type: 'zone', stream: 'cam', zone: 'gate', event: 'enter', trackId, className: 'car', dwellMs: 0, ptsMs }], capturedAt(ptsMs), ptsMs / FRAME_MS)[0]!;
}

/** A packet at frame `seq` of a 25 fps stream, with these events and tracks. */
function packetAt(seq: number, jpeg: Buffer, events: AnalyticsEvent[] = [], tracks: TrackedObject[] = []): FramePacket {
  const frame = { stream: 'cam', seq, ptsMs: seq * FRAME_MS, width: W, height: H, data: new Uint8Array(0), capturedAtMs: capturedAt(seq * FRAME_MS) };
  const analytics = { events } as unknown as NonNullable<FramePacket['analytics']>;
  return { ...packetOf(frame), overlay: { jpeg, width: W, height: H }, analytics, tracks };
}

/** Packet times (s) and the format duration (s) of a clip, and whether it decodes to its end. */
function probe(file: string): { pts: number[]; duration: number; codec: string; decodes: boolean } {
  const out = execFileSync(ffprobePath().path, ['-v', 'error', '-show_entries', 'packet=pts_time:format=duration:stream=codec_name', '-of', 'json', file]).toString();
  const json = JSON.parse(out) as { packets: { pts_time: string }[]; format: { duration: string }; streams: { codec_name: string }[] };
  let decodes = true;
  try {
    execFileSync(ffmpegPath().path, ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  } catch {
    decodes = false;
  }
  return { pts: json.packets.map((p) => Number(p.pts_time)), duration: Number(json.format.duration), codec: json.streams[0]!.codec_name, decodes };
}

interface IndexLine {
  type: 'event' | 'clip' | 'removed';
  event?: AnalyticsEvent;
  clip?: string;
  snapshot?: string | null;
  startPtsMs?: number;
  endPtsMs?: number;
  frames?: number;
  events?: number;
  cut?: boolean;
  file?: string;
}

function readIndex(dir: string): IndexLine[] {
  return readFileSync(path.join(dir, 'clips.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as IndexLine);
}

describe('clips sink', () => {
  it('writes a clip from pre before to post after each event, close events sharing one, with a snapshot of the object', async () => {
    const dir = path.join(scratch, 'run');
    const ctx = graphContext(['cam']);
    const sink = await clipsSink.create(clipsSink.options.parse({ dir, pre: 1, post: 1 }), ctx);
    const jpegs = await Promise.all(Array.from({ length: 8 }, (_, i) => jpegOf(30 + i * 25)));
    // 12 s at 25 fps: a crossing at 3.0 s and another at 3.6 s (within post: one clip), a zone
    // entry at 8.0 s (its own clip), and the run stops 0.4 s after an entry at 11.6 s (cut).
    const events = new Map<number, [AnalyticsEvent, TrackedObject]>([
      [75, [lineEvent(1, 3000), track(1, [100, 60, 140, 100])]],
      [90, [lineEvent(2, 3600), track(2, [10, 10, 30, 30])]],
      [200, [zoneEvent(3, 8000), track(3, [200, 100, 260, 170])]],
      [290, [zoneEvent(4, 11_600), track(4, [0, 0, 20, 20])]],
    ]);
    for (let seq = 0; seq < 300; seq++) {
      const e = events.get(seq);
      sink.write(packetAt(seq, jpegs[seq % jpegs.length]!, e ? [e[0]] : [], e ? [e[1]] : []));
    }
    await sink.close();
    expect(sink.failure?.()).toBeUndefined();

    const index = readIndex(dir);
    const eventLines = index.filter((l) => l.type === 'event');
    // Clips are written side by side: their lines come as each is done.
    const clipLines = index.filter((l) => l.type === 'clip').sort((a, b) => a.startPtsMs! - b.startPtsMs!);
    expect(eventLines.map((l) => l.event!.trackId)).toEqual([1, 2, 3, 4]);
    expect(clipLines).toHaveLength(3);
    // The two crossings share the first clip, named after the first.
    expect(eventLines[0]!.clip).toBe(eventLines[1]!.clip);
    expect(eventLines[0]!.clip).toMatch(/^cam\/2023-11-14T22-13-23\.000Z-f75-line-1\.mkv$/);
    expect(eventLines[2]!.clip).not.toBe(eventLines[1]!.clip);
    expect(clipLines.map((c) => [c.clip, c.events, c.cut])).toEqual([
      [eventLines[0]!.clip, 2, false],
      [eventLines[2]!.clip, 1, false],
      [eventLines[3]!.clip, 1, true],
    ]);
    for (const clip of clipLines) {
      const events = eventLines.filter((l) => l.clip === clip.clip).map((l) => l.event!.ptsMs);
      // Starts at least pre before its first event, ends at least post after its last (unless cut).
      expect(clip.startPtsMs!).toBeLessThanOrEqual(Math.min(...events) - 1000);
      expect(clip.startPtsMs!).toBeGreaterThan(Math.min(...events) - 1000 - FRAME_MS);
      if (!clip.cut) expect(clip.endPtsMs!).toBeGreaterThanOrEqual(Math.max(...events) + 1000);
      if (!clip.cut) expect(clip.endPtsMs!).toBeLessThan(Math.max(...events) + 1000 + FRAME_MS);
      expect(clip.frames).toBe((clip.endPtsMs! - clip.startPtsMs!) / FRAME_MS + 1);
      // The file: MJPEG stream-copied, every frame at its time, and it plays to its end.
      const p = probe(path.join(dir, clip.clip!));
      expect(p.codec).toBe('mjpeg');
      expect(p.decodes).toBe(true);
      expect(p.pts).toHaveLength(clip.frames!);
      p.pts.forEach((t, i) => expect(t * 1000).toBeCloseTo(i * FRAME_MS, 3));
      expect(Math.abs(p.duration * 1000 - (clip.endPtsMs! - clip.startPtsMs!))).toBeLessThanOrEqual(FRAME_MS);
    }
    // First clip: 2.0 s .. 4.6 s; the zone clip 7.0 .. 9.0 s; the cut one from 10.6 s to the last frame.
    expect(clipLines.map((c) => [c.startPtsMs, c.endPtsMs])).toEqual([[2000, 4600], [7000, 9000], [10_600, 11_960]]);
    // Snapshot: the box (40 x 40 at 100,60) with a 24 px margin: 88 x 88.
    const snap = await sharp(path.join(dir, eventLines[0]!.snapshot!)).metadata();
    expect([snap.format, snap.width, snap.height]).toEqual(['jpeg', 88, 88]);
    // The box of track 3 (60 x 70 at 200,100) with 35 px around it, cut at the frame's bottom.
    const snap3 = await sharp(path.join(dir, eventLines[2]!.snapshot!)).metadata();
    expect([snap3.width, snap3.height]).toEqual([130, H - 65]);
    // No parts folder left behind.
    expect(execFileSync('ls', ['-A', path.join(dir, 'cam')]).toString()).not.toMatch(/parts/);
    expect(ctx.metrics.snapshot()).toEqual([]);
  }, 60_000);

  it('removes the oldest clips first beyond its byte limit, and adds to the index of an earlier run', async () => {
    const dir = path.join(scratch, 'retained');
    const jpeg = await jpegOf(120);
    const oneRun = async (bytes: number | undefined, seqs: number[]) => {
      const ctx = graphContext(['cam']);
      const sink = await clipsSink.create(clipsSink.options.parse({ dir, pre: 0.4, post: 0.4, retention: bytes ? { bytes } : {} }), ctx);
      for (let seq = 0; seq < 100; seq++) {
        sink.write(packetAt(seq, jpeg, seqs.includes(seq) ? [lineEvent(seq, seq * FRAME_MS)] : [], [track(seq, [10, 10, 50, 50])]));
      }
      await sink.close();
    };
    await oneRun(undefined, [20, 50]);
    const clips = readIndex(dir).filter((l) => l.type === 'clip');
    expect(clips).toHaveLength(2);
    const sizeOf = (name: string) => statSync(path.join(dir, name)).size;
    const firstClipBytes = sizeOf(clips[0]!.clip!);
    // A second run, keeping a little more than one clip and its snapshot: the first run's go.
    await oneRun(firstClipBytes * 1.5, [80]);
    const index = readIndex(dir);
    expect(index.filter((l) => l.type === 'event')).toHaveLength(3);
    const removed = index.filter((l) => l.type === 'removed').map((l) => l.file);
    expect(removed).toContain(clips[0]!.clip);
    expect(removed).toContain(clips[1]!.clip);
    const last = index.filter((l) => l.type === 'clip')[2]!;
    expect(existsSync(path.join(dir, last.clip!))).toBe(true);
    expect(removed).not.toContain(last.clip);
  }, 60_000);

  it('retention: files older than `days` go, then the oldest until under `bytes`', async () => {
    const dir = path.join(scratch, 'retention');
    mkdirSync(path.join(dir, 'a'), { recursive: true });
    mkdirSync(path.join(dir, 'a', '.x.mkv.parts'), { recursive: true });
    const now = Date.now();
    const files: [string, number, number][] = [
      ['a/old.mkv', 100, now - 10 * 86_400_000],
      ['a/mid.jpg', 100, now - 3 * 86_400_000],
      ['a/mid.mkv', 100, now - 2 * 86_400_000],
      ['a/new.mkv', 100, now - 1000],
      ['a/notes.txt', 100, now - 20 * 86_400_000],
    ];
    for (const [name, size, mtime] of files) {
      writeFileSync(path.join(dir, name), Buffer.alloc(size));
      utimesSync(path.join(dir, name), mtime / 1000, mtime / 1000);
    }
    expect(await applyRetention(dir, { days: 7 }, now)).toEqual(['a/old.mkv']);
    expect(await applyRetention(dir, { bytes: 150 }, now)).toEqual(['a/mid.jpg', 'a/mid.mkv']);
    expect(existsSync(path.join(dir, 'a/new.mkv'))).toBe(true);
    expect(existsSync(path.join(dir, 'a/notes.txt'))).toBe(true);
    expect(existsSync(path.join(dir, 'a/.x.mkv.parts'))).toBe(true);
  });
});
