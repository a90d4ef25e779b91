/**
 * MOTChallenge text files, and the folder layouts that hold one sequence per file.
 *
 * A row is `frame,id,left,top,width,height[,conf[,class[,visibility[,unused]]]]` (MOT16 and later).
 * Ground truth uses conf as "evaluate this row" (0 = ignore), class and visibility; a tracker's
 * output puts its score in conf and world coordinates (-1) after it, which evaluation ignores.
 * The 2D MOT 2015 layout puts world coordinates `x, y, z` in columns 8 to 10 instead, and has no
 * classes: every row is a pedestrian (as py-motmetrics' `mot15-2D` loader and TrackEval read it).
 * Rows are kept column-wise in typed arrays because every metric loops over them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The rows of one file, one typed array per column, in file order. */
export interface MotRows {
  /** The file they came from, for messages. */
  readonly source: string;
  readonly count: number;
  readonly frame: Int32Array;
  readonly id: Int32Array;
  readonly left: Float64Array;
  readonly top: Float64Array;
  readonly width: Float64Array;
  readonly height: Float64Array;
  /** 1 where the row has no conf column. */
  readonly conf: Float64Array;
  /** {@link NO_CLASS} where the row has no class column. */
  readonly classId: Int32Array;
  /** Ground truth: the visible fraction of the object (0..1); 1 where the row has none (or is MOT15). */
  readonly visibility: Float64Array;
  /** 1-based line of each row, so later checks can point at it. */
  readonly line: Int32Array;
  /** How columns 8 to 10 were read. */
  readonly layout: MotLayout;
}

/**
 * What columns 8 to 10 hold: `mot16` (MOT16 and later) class, visibility and an unused value;
 * `mot15` world coordinates x, y, z, every row a pedestrian ({@link NO_CLASS}).
 */
export type MotLayout = 'mot15' | 'mot16';

/** A layout, or `auto`: decided from the file by {@link AUTO_LAYOUT_RULE}. */
export type MotLayoutOption = MotLayout | 'auto';

export const AUTO_LAYOUT_RULE =
  'auto reads a file as MOT15 when some row has 10 values whose columns 8 to 10 cannot be MOT16\'s class, visibility ' +
  'and unused value (column 8 not a whole number, column 9 neither -1 nor in [0, 1], or column 10 not -1), else as MOT16; ' +
  'a file whose columns 8 to 10 are -1 reads the same either way';

/** Whether a row of 10 values cannot be MOT16 (see {@link AUTO_LAYOUT_RULE}). */
function worldCoordinates(column8: number, column9: number, column10: number): boolean {
  return !Number.isInteger(column8) || (column9 !== -1 && (column9 < 0 || column9 > 1)) || column10 !== -1;
}

/** The class of a row that has no class column, and what MOT15-style files write there. */
export const NO_CLASS = -1;

const LAYOUT_HINT =
  'each line must be frame,id,left,top,width,height[,conf,class,visibility,...] (6 to 10 values)';

function fail(source: string, line: number, problem: string): never {
  throw new Error(`${source} line ${line}: ${problem}; ${LAYOUT_HINT}`);
}

function wholeNumber(text: string, what: string, source: string, line: number): number {
  const n = Number(text);
  if (text === '' || !Number.isInteger(n)) fail(source, line, `${what} "${text}" is not a whole number`);
  return n;
}

function finiteNumber(text: string, what: string, source: string, line: number): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) fail(source, line, `${what} "${text}" is not a number`);
  return n;
}

/**
 * Parses the text of one MOTChallenge file. Values are separated by commas (spaces around them
 * are fine) or by whitespace, as py-motmetrics accepts; blank lines are skipped. Throws an Error
 * naming `source` and the line for anything else. `layout` says how to read columns 8 to 10;
 * with `mot16` (the default) a class must be a whole number, with `mot15` and `auto` the three
 * values must be numbers.
 */
export function parseMotText(text: string, source: string, layout: MotLayoutOption = 'mot16'): MotRows {
  const lines = text.split(/\r?\n/);
  const capacity = lines.length;
  const frame = new Int32Array(capacity);
  const id = new Int32Array(capacity);
  const left = new Float64Array(capacity);
  const top = new Float64Array(capacity);
  const width = new Float64Array(capacity);
  const height = new Float64Array(capacity);
  const conf = new Float64Array(capacity);
  const classId = new Int32Array(capacity);
  const visibility = new Float64Array(capacity).fill(1);
  const lineOf = new Int32Array(capacity);
  // Column 8 as a number, for `auto` and `mot15`, and whether some row had world coordinates.
  const column8 = layout === 'mot16' ? undefined : new Float64Array(capacity);
  let sawWorldCoordinates = false;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '') continue;
    const lineNumber = i + 1;
    const fields = trimmed.split(/\s*,\s*|\s+/);
    // A trailing comma leaves an empty last field; it is not a value.
    if (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
    if (fields.length < 6 || fields.length > 10) {
      fail(source, lineNumber, `found ${fields.length} values`);
    }
    const f = wholeNumber(fields[0]!, 'frame', source, lineNumber);
    if (f < 0) fail(source, lineNumber, `frame ${f} is negative`);
    frame[count] = f;
    id[count] = wholeNumber(fields[1]!, 'id', source, lineNumber);
    left[count] = finiteNumber(fields[2]!, 'left', source, lineNumber);
    top[count] = finiteNumber(fields[3]!, 'top', source, lineNumber);
    width[count] = finiteNumber(fields[4]!, 'width', source, lineNumber);
    height[count] = finiteNumber(fields[5]!, 'height', source, lineNumber);
    conf[count] = fields.length > 6 ? finiteNumber(fields[6]!, 'conf', source, lineNumber) : 1;
    if (column8 === undefined) {
      classId[count] = fields.length > 7 ? wholeNumber(fields[7]!, 'class', source, lineNumber) : NO_CLASS;
      if (fields.length > 8) visibility[count] = finiteNumber(fields[8]!, 'visibility', source, lineNumber);
    } else {
      const extra = fields.slice(7).map((f, k) => finiteNumber(f, `column ${8 + k}`, source, lineNumber));
      column8[count] = extra[0] ?? NO_CLASS;
      if (extra.length > 1) visibility[count] = extra[1]!;
      if (extra.length === 3 && worldCoordinates(extra[0]!, extra[1]!, extra[2]!)) sawWorldCoordinates = true;
      classId[count] = NO_CLASS;
    }
    lineOf[count] = lineNumber;
    count++;
  }
  const read: MotLayout = layout === 'auto' ? (sawWorldCoordinates ? 'mot15' : 'mot16') : layout;
  if (layout === 'auto' && read === 'mot16') {
    for (let r = 0; r < count; r++) {
      const value = column8![r]!;
      if (!Number.isInteger(value)) {
        fail(source, lineOf[r]!, `class "${value}" is not a whole number (if columns 8 to 10 are MOT15 world coordinates, read the file as MOT15)`);
      }
      classId[r] = value;
    }
  } else if (read === 'mot15') {
    visibility.fill(1, 0, count);
  }
  return {
    source,
    layout: read,
    count,
    frame: frame.slice(0, count),
    id: id.slice(0, count),
    left: left.slice(0, count),
    top: top.slice(0, count),
    width: width.slice(0, count),
    height: height.slice(0, count),
    conf: conf.slice(0, count),
    classId: classId.slice(0, count),
    visibility: visibility.slice(0, count),
    line: lineOf.slice(0, count),
  };
}

/** Reads and parses one MOTChallenge file (see {@link parseMotText} for `layout`). */
export function readMotFile(file: string, layout: MotLayoutOption = 'mot16'): MotRows {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read ${file}: ${reason}`);
  }
  return parseMotText(text, file, layout);
}

/** Where `<gt>` or `<pred>` puts its sequences: one file, or a folder of named sequences. */
export type SequenceSet =
  | { readonly kind: 'single'; readonly name: string; readonly file: string }
  | { readonly kind: 'folder'; readonly folder: string; readonly files: ReadonlyMap<string, string> };

/**
 * A file's sequence name: `MOT17-02.txt` → `MOT17-02`; a file named `gt.txt` takes its folder's
 * name, skipping a `gt` folder (`MOT17-02/gt/gt.txt` → `MOT17-02`, `TUD-Campus/gt.txt` → `TUD-Campus`).
 */
function sequenceNameOfFile(file: string): string {
  const name = path.basename(file).replace(/\.txt$/i, '');
  if (name !== 'gt') return name;
  let folder = path.dirname(path.resolve(file));
  if (path.basename(folder) === 'gt') folder = path.dirname(folder);
  return path.basename(folder) || name;
}

/** What is at `p`, if anything; a path through a file (ENOTDIR) is nothing, not an error. */
function kindOf(p: string): 'file' | 'folder' | 'other' | 'none' {
  try {
    const stats = statSync(p);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'none';
  }
}
const isFile = (p: string): boolean => kindOf(p) === 'file';
const isFolder = (p: string): boolean => kindOf(p) === 'folder';

/**
 * Finds the sequences under `location` (the value of `--gt` or `--pred`, named by `flag` in
 * messages):
 * - a file is one sequence, named after the file (`MOT17-02.txt` → `MOT17-02`);
 * - a folder holding `gt/gt.txt` is one sequence named after the folder (a MOTChallenge
 *   sequence folder);
 * - any other folder holds one sequence per `<seq>.txt` file and per `<seq>/gt/gt.txt` folder
 *   (the MOTChallenge layouts of tracker output and of ground truth).
 */
export function findSequences(location: string, flag: string): SequenceSet {
  if (isFile(location)) return { kind: 'single', name: sequenceNameOfFile(location), file: location };
  if (!isFolder(location)) {
    throw new Error(`${flag} ${location}: no such file or folder; give a MOTChallenge .txt file or a folder of them`);
  }
  const own = path.join(location, 'gt', 'gt.txt');
  if (isFile(own)) return { kind: 'single', name: path.basename(path.resolve(location)), file: own };
  const files = new Map<string, string>();
  for (const entry of readdirSync(location).sort()) {
    const full = path.join(location, entry);
    if (/\.txt$/i.test(entry) && isFile(full)) files.set(entry.replace(/\.txt$/i, ''), full);
    else if (isFile(path.join(full, 'gt', 'gt.txt'))) files.set(entry, path.join(full, 'gt', 'gt.txt'));
  }
  if (files.size === 0) {
    throw new Error(
      `${flag} ${location}: the folder holds no sequence; put one <seq>.txt file or one <seq>/gt/gt.txt per sequence in it`,
    );
  }
  return { kind: 'folder', folder: location, files };
}

/** One sequence to evaluate: its ground truth, and its prediction file unless it has none. */
export interface SequencePair {
  readonly name: string;
  readonly gtFile: string;
  readonly predFile: string | null;
}

export interface SequencePairing {
  readonly pairs: readonly SequencePair[];
  /** Prediction sequences with no ground truth of the same name: not evaluated. */
  readonly unmatchedPredictions: readonly string[];
}

/**
 * Pairs ground-truth and prediction sequences by name. One file against one file pairs them
 * whatever their names. A ground-truth sequence with no prediction of its name is paired with
 * none (an empty prediction: every object missed).
 */
export function pairSequences(gt: SequenceSet, pred: SequenceSet): SequencePairing {
  if (gt.kind === 'single' && pred.kind === 'single') {
    return { pairs: [{ name: gt.name, gtFile: gt.file, predFile: pred.file }], unmatchedPredictions: [] };
  }
  const gtFiles = gt.kind === 'single' ? new Map([[gt.name, gt.file]]) : gt.files;
  if (pred.kind === 'single') {
    if (gtFiles.size !== 1) {
      throw new Error(
        `--pred ${pred.file} is one file but --gt ${gt.kind === 'folder' ? gt.folder : gt.file} holds ${gtFiles.size} sequences; ` +
          'give --pred a folder with one <seq>.txt per sequence',
      );
    }
    const [name, gtFile] = [...gtFiles][0]!;
    return { pairs: [{ name, gtFile, predFile: pred.file }], unmatchedPredictions: [] };
  }
  const pairs = [...gtFiles].map(([name, gtFile]) => ({ name, gtFile, predFile: pred.files.get(name) ?? null }));
  const unmatchedPredictions = [...pred.files.keys()].filter((name) => !gtFiles.has(name));
  if (pairs.every((p) => p.predFile === null)) {
    throw new Error(
      `--pred ${pred.folder}: none of its sequences (${[...pred.files.keys()].join(', ')}) has the name of a ` +
        `ground-truth sequence (${[...gtFiles.keys()].join(', ')}); name each prediction file <seq>.txt after its sequence`,
    );
  }
  return { pairs, unmatchedPredictions };
}
