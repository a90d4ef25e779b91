/**
 * Numbered images played as a clip: a path with a printf pattern, `img1/%06d.jpg`, as ffmpeg's
 * image2 demuxer reads it (000001.jpg, 000002.jpg, ...). This is how MOTChallenge and most
 * annotated datasets ship their frames, so a config can be run, and scored, on them directly.
 *
 * Still images carry no frame rate: it comes from the source's `fps`, else from a MOTChallenge
 * `seqinfo.ini` beside the images' folder (`<seq>/seqinfo.ini` for `<seq>/img1/%06d.jpg`), else
 * {@link DEFAULT_IMAGE_SEQUENCE_FPS}. The images are found here, before ffmpeg runs, so a wrong
 * folder or pattern fails with its own message rather than as ffmpeg's "Could find no file".
 *
 * Frames are numbered from the first image found: `seq` 0 is the lowest number present (and
 * `--mot-out` writes it as frame 1), so a MOTChallenge `img1/` that starts at 000001.jpg lines up
 * with its `gt/gt.txt`. ffmpeg stops at the first missing number; so does the count here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readSeqInfo } from './mot-seqinfo.ts';
import { fractionOf, isUrl } from './probe.ts';

/** ffmpeg's image2 rate when nothing says otherwise. */
export const DEFAULT_IMAGE_SEQUENCE_FPS = 25;

/** The number field of a pattern: `%d`, or `%0Nd` (zero-padded to N digits), as ffmpeg takes them. */
const NUMBER_FIELD = /%(0[1-9]\d*)?d/;

export interface ImageSequence {
  /** The pattern as given to ffmpeg (an absolute path with its `%06d`). */
  readonly pattern: string;
  /** The number of the first image, handed to ffmpeg as `-start_number`. */
  readonly firstNumber: number;
  /** Images from the first one up to the first missing number: the frames ffmpeg will decode. */
  readonly frames: number;
  /** The first image's file name, for log lines. */
  readonly firstFile: string;
  readonly fpsNum: number;
  readonly fpsDen: number;
  /** Where the frame rate came from. */
  readonly fpsFrom: 'the source option fps' | 'seqinfo.ini' | 'the default';
}

/**
 * True when `location` names numbered images rather than one file: a local path, not an existing
 * file, whose file name holds one `%d` or `%0Nd`.
 */
export function isImageSequence(location: string): boolean {
  if (isUrl(location) || existsSync(location)) return false;
  return NUMBER_FIELD.test(path.basename(location));
}

/**
 * Finds the images a pattern names and the rate to play them at.
 *
 * @param pattern an absolute path whose file name holds `%d` or `%0Nd`
 * @param fps the source's `fps` option, if set
 * @throws Error `image sequence not found: ...` naming the folder or the pattern, when the folder
 * does not exist or no file in it matches.
 */
export function openImageSequence(pattern: string, fps?: number): ImageSequence {
  const folder = path.dirname(pattern);
  const template = path.basename(pattern);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Error(`image sequence not found: the folder ${folder} does not exist — check the path of ${pattern}`);
  }
  const field = NUMBER_FIELD.exec(template)!;
  const [before, after] = [template.slice(0, field.index), template.slice(field.index + field[0].length)].map(unescapePercent);
  const width = field[1] ? Number(field[1]) : 0;
  const nameOf = (n: number) => `${before}${String(n).padStart(width, '0')}${after}`;
  // A file matches when the pattern, filled with its number, gives its name back exactly.
  const numbers = new Set<number>();
  for (const name of readdirSync(folder)) {
    if (!name.startsWith(before!) || !name.endsWith(after!)) continue;
    const digits = name.slice(before!.length, name.length - after!.length);
    if (/^\d+$/.test(digits) && nameOf(Number(digits)) === name) numbers.add(Number(digits));
  }
  if (numbers.size === 0) {
    throw new Error(
      `image sequence not found: no file in ${folder} matches ${template} (e.g. ${nameOf(1)}) — check the folder and the pattern ` +
        '(%06d is six digits, zero-padded; %d is a number without padding)',
    );
  }
  const firstNumber = Math.min(...numbers);
  let frames = 0;
  while (numbers.has(firstNumber + frames)) frames++;
  const rate = frameRateOf(folder, fps);
  return { pattern, firstNumber, frames, firstFile: nameOf(firstNumber), ...rate };
}

/** ffmpeg's input options that read the sequence: before `-i`, for the probe and the decode alike. */
export function imageSequenceInputOptions(sequence: ImageSequence): string[] {
  return ['-f', 'image2', '-framerate', `${sequence.fpsNum}/${sequence.fpsDen}`, '-start_number', String(sequence.firstNumber)];
}

/** `%%` in an image2 pattern is a literal `%`. */
function unescapePercent(text: string): string {
  return text.replaceAll('%%', '%');
}

function frameRateOf(folder: string, fps: number | undefined): Pick<ImageSequence, 'fpsNum' | 'fpsDen' | 'fpsFrom'> {
  if (fps !== undefined) return { ...asFraction(fps), fpsFrom: 'the source option fps' };
  const fromSeqInfo = seqInfoRate(folder);
  if (fromSeqInfo !== undefined) return { ...asFraction(fromSeqInfo), fpsFrom: 'seqinfo.ini' };
  return { fpsNum: DEFAULT_IMAGE_SEQUENCE_FPS, fpsDen: 1, fpsFrom: 'the default' };
}

function asFraction(fps: number): { fpsNum: number; fpsDen: number } {
  const { num, den } = fractionOf(fps);
  return { fpsNum: num, fpsDen: den };
}

/**
 * The `frameRate` of the MOTChallenge `seqinfo.ini` one folder up, when it describes this folder
 * (its `imDir` is the folder's name, or it names none).
 */
function seqInfoRate(folder: string): number | undefined {
  const file = path.join(path.dirname(folder), 'seqinfo.ini');
  if (!existsSync(file)) return undefined;
  const info = readSeqInfo(file);
  if (info.imDir !== undefined && info.imDir !== path.basename(folder)) return undefined;
  const rate = Number(info.frameRate);
  return rate > 0 ? rate : undefined;
}
