/**
 * What a video is, before anything decodes it: ffprobe on the first video stream.
 *
 * A source probes while the graph is built, so a missing or unreadable clip fails there with a
 * message that says what to fix, rather than as an ffmpeg exit code once frames should flow.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ffprobePath } from './ffmpeg-binary.ts';

export interface VideoInfo {
  /** Frame size as ffmpeg outputs it: rotation metadata already applied (ffmpeg autorotates). */
  readonly width: number;
  readonly height: number;
  /** Frames per second, `fpsNum / fpsDen`. */
  readonly fps: number;
  /** The frame rate as the exact fraction ffprobe reported, to hand back to ffmpeg (`-r 30000/1001`). */
  readonly fpsNum: number;
  readonly fpsDen: number;
  /** Frames in the stream, when the container says (most mp4 and gif do; live streams do not). */
  readonly frameCount?: number;
  readonly durationMs?: number;
  /** ffmpeg's name of the codec, e.g. `h264`, `gif`. */
  readonly codec: string;
}

export interface ProbeOptions {
  /** ffprobe is killed after this long; a live URL that never answers would otherwise hang the build. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Schemes that name a network stream rather than a file: those go to ffmpeg as they are. */
const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True for `rtsp://`, `http://` and other URLs; false for paths. */
export function isUrl(uri: string): boolean {
  return URL_PATTERN.test(uri) && !uri.toLowerCase().startsWith('file://');
}

/** The fields of ffprobe's JSON we read; everything is optional because containers differ. */
interface ProbeJson {
  streams?: {
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    tags?: { rotate?: string };
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { duration?: string };
}

/**
 * Runs ffprobe on `uri` (a local path or a URL) and describes its first video stream.
 *
 * @throws Error `video not found: <path> — ...` when a local file does not exist;
 * `cannot read video <uri>: <ffprobe's message>` when ffprobe fails (not a video, corrupt, network);
 * `<uri> has no video stream` for, say, an audio file.
 */
export async function probeVideo(uri: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  if (!isUrl(uri) && !existsSync(uri)) throw videoNotFound(uri);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const args = [
    '-v', 'error',
    '-select_streams', 'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:stream_tags=rotate:stream_side_data=rotation:format=duration',
    '-of', 'json',
    uri,
  ];
  const stdout = await runFfprobe(uri, args, timeoutMs);
  let json: ProbeJson;
  try {
    json = JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new Error(`cannot read video ${uri}: ffprobe printed something that is not JSON`);
  }
  return videoInfoOf(uri, json);
}

function videoNotFound(uri: string): Error {
  return new Error(`video not found: ${uri} — check the path, or set PANOPTES_DATA / the source's uri`);
}

function runFfprobe(uri: string, args: string[], timeoutMs: number): Promise<string> {
  const ffprobe = ffprobePath().path;
  return new Promise((resolve, reject) => {
    execFile(
      ffprobe,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (err.killed) return reject(new Error(`cannot read video ${uri}: ffprobe gave no answer in ${timeoutMs} ms`));
        // The file can vanish between the existence check and ffprobe opening it.
        if (/No such file or directory/.test(stderr) && !isUrl(uri)) return reject(videoNotFound(uri));
        reject(new Error(`cannot read video ${uri}: ${ffprobeMessage(uri, stderr) ?? err.message}`));
      },
    );
  });
}

/** ffprobe's last line says what went wrong, prefixed with the input's name, which we already give. */
function ffprobeMessage(uri: string, stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  return last.startsWith(`${uri}: `) ? last.slice(uri.length + 2) : last;
}

function videoInfoOf(uri: string, json: ProbeJson): VideoInfo {
  const stream = json.streams?.[0];
  if (!stream) throw new Error(`cannot read video ${uri}: it has no video stream`);
  const { width, height } = stream;
  if (!width || !height) throw new Error(`cannot read video ${uri}: ffprobe reports no frame size`);
  const rate = frameRateOf(stream.r_frame_rate, stream.avg_frame_rate);
  if (!rate) throw new Error(`cannot read video ${uri}: ffprobe reports no frame rate`);

  // ffmpeg rotates frames that carry a display rotation (phone videos), so the output is w×h swapped.
  const rotation = stream.side_data_list?.find((side) => side.rotation !== undefined)?.rotation ?? Number(stream.tags?.rotate ?? 0);
  const quarterTurn = Math.abs(Math.round(rotation)) % 180 === 90;

  const frameCount = positiveNumber(stream.nb_frames);
  const durationS = positiveNumber(stream.duration) ?? positiveNumber(json.format?.duration);
  return {
    width: quarterTurn ? height : width,
    height: quarterTurn ? width : height,
    fps: rate.num / rate.den,
    fpsNum: rate.num,
    fpsDen: rate.den,
    codec: stream.codec_name ?? 'unknown',
    ...(frameCount !== undefined && { frameCount: Math.round(frameCount) }),
    ...(durationS !== undefined && { durationMs: durationS * 1000 }),
  };
}

/**
 * The frame rate ffmpeg itself would pick (its `av_guess_frame_rate`): `r_frame_rate`, unless it is
 * implausibly high for a real video (a timebase, as some VFR files report) while the average is
 * plausible. `r_frame_rate` first matters for GIFs, whose `avg_frame_rate` is estimated from the
 * first few frame delays and can be off (50/3 for a clip of frames every 1/15 s).
 */
function frameRateOf(rFrameRate: string | undefined, avgFrameRate: string | undefined): { num: number; den: number } | undefined {
  const r = parseRational(rFrameRate);
  const avg = parseRational(avgFrameRate);
  if (r && avg && r.num / r.den > 210 && avg.num / avg.den < 70) return avg;
  return r ?? avg;
}

function parseRational(text: string | undefined): { num: number; den: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match) return undefined;
  const num = Number(match[1]);
  const den = Number(match[2]);
  return num > 0 && den > 0 ? { num, den } : undefined;
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}
