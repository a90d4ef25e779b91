/**
 * What a video is, before anything decodes it: the first video stream as the ffmpeg that will
 * decode it sees it (`ffmpeg -i`, whose description of the input is read from its stderr).
 *
 * Not ffprobe: the packaged ffprobe is another build than the packaged ffmpeg, and it crashes
 * (SIGSEGV) on MPEG-TS, which ffmpeg decodes fine. Whatever ffmpeg can open, the source can play.
 *
 * A source probes while the graph is built, so a missing or unreadable clip fails there with a
 * message that says what to fix, rather than as an ffmpeg exit code once frames should flow.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';

export interface VideoInfo {
  /** Frame size as ffmpeg outputs it: rotation metadata already applied (ffmpeg autorotates). */
  readonly width: number;
  readonly height: number;
  /** Frames per second, `fpsNum / fpsDen`. */
  readonly fps: number;
  /**
   * The frame rate as a fraction, to hand back to ffmpeg (`-r 30000/1001`): ffmpeg prints rates
   * to two decimals, and the NTSC rates it prints (29.97, 23.98, 59.94) are read back as n·1000/1001.
   */
  readonly fpsNum: number;
  readonly fpsDen: number;
  /**
   * Frames a constant-rate decode gives, about (±1): the container's duration times the rate.
   * Absent when the container states no duration (live streams, GIFs).
   */
  readonly frameCount?: number;
  /** The container's duration, when it states one. */
  readonly durationMs?: number;
  /** ffmpeg's name of the codec, e.g. `h264`, `gif`. */
  readonly codec: string;
}

export interface ProbeOptions {
  /** ffmpeg is killed after this long; a live URL that never answers would otherwise hang the build. */
  readonly timeoutMs?: number;
  /**
   * ffmpeg options that say how to read the input, placed before `-i` (an image sequence's
   * `-f image2 -framerate 30 -start_number 1`). With them, `uri` is not checked as a file: it is
   * a pattern, and whoever built the options has found its files.
   */
  readonly inputOptions?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Schemes that name a network stream rather than a file: those go to ffmpeg as they are. */
const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True for `rtsp://`, `http://` and other URLs; false for paths. */
export function isUrl(uri: string): boolean {
  return URL_PATTERN.test(uri) && !uri.toLowerCase().startsWith('file://');
}

/**
 * Runs `ffmpeg -i` on `uri` (a local path or a URL) and describes its first video stream.
 *
 * @throws Error `video not found: <path> — ...` when a local file does not exist;
 * `cannot read video <uri>: <ffmpeg's message>` when ffmpeg cannot open it (not a video,
 * corrupt, network) or crashes; `... it has no video stream` for, say, an audio file.
 */
export async function probeVideo(uri: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  if (!isUrl(uri) && options.inputOptions === undefined && !existsSync(uri)) throw videoNotFound(uri);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stderr = await describeInput(uri, timeoutMs, options.inputOptions ?? []);
  return videoInfoOf(uri, stderr);
}

function videoNotFound(uri: string): Error {
  return new Error(`video not found: ${uri} — check the path, or set PANOPTES_DATA / the source's uri`);
}

/**
 * ffmpeg's description of the input. With no output named, ffmpeg describes the input and
 * exits 1 ("At least one output file must be specified"): that exit is the normal one here.
 */
function describeInput(uri: string, timeoutMs: number, inputOptions: readonly string[]): Promise<string> {
  const ffmpeg = ffmpegPath().path;
  return new Promise((resolve, reject) => {
    execFile(
      ffmpeg,
      ['-hide_banner', '-nostdin', ...inputOptions, '-i', uri],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (err, _stdout, stderr) => {
        if (err?.killed) return reject(new Error(`cannot read video ${uri}: ffmpeg gave no answer in ${timeoutMs} ms`));
        if (INPUT_HEADER.test(stderr)) return resolve(stderr);
        // The file can vanish between the existence check and ffmpeg opening it.
        if (/No such file or directory/.test(stderr) && !isUrl(uri)) return reject(videoNotFound(uri));
        const said = ffmpegMessage(uri, stderr);
        const signal = err && 'signal' in err && err.signal ? `ffmpeg was killed by ${String(err.signal)}` : undefined;
        reject(new Error(`cannot read video ${uri}: ${[signal, said].filter(Boolean).join(': ') || (err?.message ?? 'ffmpeg described no input')}`));
      },
    );
  });
}

const INPUT_HEADER = /^Input #0, /m;

/** ffmpeg's last line says what went wrong, prefixed with the input's name, which we already give. */
function ffmpegMessage(uri: string, stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  return last.startsWith(`${uri}: `) ? last.slice(uri.length + 2) : last;
}

/** The lines ffmpeg prints about the first video stream: its `Stream #0:N...: Video:` line and the indented ones under it. */
function firstVideoStream(stderr: string): { line: string; details: string[] } | undefined {
  const lines = stderr.split(/\r?\n/);
  // Cover art is a one-picture "video" stream ffmpeg's `-map 0:v:0` would pick as well; say so rather than guess.
  const at = lines.findIndex((line) => /^\s*Stream #0:\d+.*?: Video: /.test(line));
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(lines[at]!)![0].length;
  const details: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (/^\s*Stream #/.test(line) || /^\s*\S/.test(line) === false || /^\s*/.exec(line)![0].length < indent) break;
    details.push(line.trim());
  }
  return { line: lines[at]!, details };
}

/** {@link probeVideo}'s reading of ffmpeg's description of an input (`Input #0, ...` and its streams). */
export function videoInfoFromStderr(uri: string, stderr: string): VideoInfo {
  return videoInfoOf(uri, stderr);
}

function videoInfoOf(uri: string, stderr: string): VideoInfo {
  const stream = firstVideoStream(stderr);
  if (!stream) throw new Error(`cannot read video ${uri}: it has no video stream`);
  const description = stream.line.slice(stream.line.indexOf(': Video: ') + ': Video: '.length);
  const codec = /^([\w-]+)/.exec(description)?.[1] ?? 'unknown';
  // "…, 960x540 [SAR 1:1 DAR 16:9], …": a size is its own comma-separated item (not "0x31637661").
  const size = /(?:^|, )(\d+)x(\d+)(?=[\s,]|$)/.exec(description);
  if (!size) throw new Error(`cannot read video ${uri}: ffmpeg reports no frame size`);
  const width = Number(size[1]);
  const height = Number(size[2]);
  const rate = frameRateOf(rateOf(description, 'tbr'), rateOf(description, 'fps'));
  if (!rate) throw new Error(`cannot read video ${uri}: ffmpeg reports no frame rate`);

  // ffmpeg rotates frames that carry a display rotation (phone videos), so the output is w×h swapped.
  const rotation = rotationOf(stream.details);
  const quarterTurn = Math.abs(Math.round(rotation)) % 180 === 90;

  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const durationS = duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : undefined;
  const fps = rate.num / rate.den;
  return {
    width: quarterTurn ? height : width,
    height: quarterTurn ? width : height,
    fps,
    fpsNum: rate.num,
    fpsDen: rate.den,
    codec,
    ...(durationS !== undefined && durationS > 0 && { frameCount: Math.round(durationS * fps), durationMs: durationS * 1000 }),
  };
}

/** The rotation in degrees: the display matrix side data, else the older `rotate` tag. */
function rotationOf(details: readonly string[]): number {
  for (const line of details) {
    const matrix = /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(line);
    if (matrix) return Number(matrix[1]);
  }
  for (const line of details) {
    const tag = /^rotate\s*:\s*(-?[\d.]+)/.exec(line);
    if (tag) return Number(tag[1]);
  }
  return 0;
}

/** A rate ffmpeg printed before `unit` ("25 fps", "29.97 tbr", "1k tbr"), as a fraction. */
function rateOf(description: string, unit: 'fps' | 'tbr'): { num: number; den: number } | undefined {
  const match = new RegExp(`(?:^|, )(\\d+(?:\\.\\d+)?)(k?) ${unit}(?=,|$|\\s)`).exec(description);
  if (!match) return undefined;
  const value = Number(match[1]) * (match[2] ? 1000 : 1);
  return value > 0 ? fractionOf(value) : undefined;
}

/**
 * The fraction behind a rate printed to two decimals: a whole number as n/1; an NTSC rate
 * (29.97 = 30000/1001) as n·1000/1001; anything else in hundredths, reduced (12.50 = 25/2).
 */
export function fractionOf(value: number): { num: number; den: number } {
  if (Number.isInteger(value)) return { num: value, den: 1 };
  const ntsc = Math.round(value * 1.001);
  if (Math.abs(ntsc / 1.001 - value) < 0.005) return { num: ntsc * 1000, den: 1001 };
  const hundredths = Math.round(value * 100);
  const divisor = gcd(hundredths, 100);
  return { num: hundredths / divisor, den: 100 / divisor };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The frame rate ffmpeg itself would pick (its `av_guess_frame_rate`): the stream's base rate
 * (`tbr`), unless it is implausibly high for a real video (a timebase, as some VFR files report)
 * while the average (`fps`) is plausible. `tbr` first matters for GIFs, whose average is
 * estimated from the first few frame delays and can be off (16.67 for a clip of frames every 1/15 s).
 */
function frameRateOf(
  tbr: { num: number; den: number } | undefined,
  avg: { num: number; den: number } | undefined,
): { num: number; den: number } | undefined {
  if (tbr && avg && tbr.num / tbr.den > 210 && avg.num / avg.den < 70) return avg;
  return tbr ?? avg;
}
