/**
 * `panoptes eval semantic | panoptic | video-panoptic`: parses the flags, runs the evaluation and
 * prints one JSON object. Flag mistakes throw a {@link UsageError} (exit code 2 with the usage);
 * problems with the files throw an Error naming the file and the fix.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../cli/usage-error.ts';
import { evaluatePanoptic } from './evaluate-panoptic.ts';
import { evaluateSemantic } from './evaluate-semantic.ts';
import { evaluateVideoPanoptic } from './evaluate-video-panoptic.ts';

export type SegmentationEvalKind = 'semantic' | 'panoptic' | 'video-panoptic';

export const EVAL_SEGMENTATION_USAGE: Record<SegmentationEvalKind, string> = {
  semantic: `panoptes eval semantic --gt <dir> --pred <dir> --classes <n> [--ignore <label>]

Scores label-map PNGs (greyscale or palette: the value is the class index) against ground truth
of the same relative path: per-class IoU and Dice, mIoU, mean Dice, pixel accuracy and mean class
accuracy, from one confusion matrix over all images. Prints one JSON object.

  --gt <dir>         ground-truth label maps (sub-folders included)
  --pred <dir>       predicted label maps, named like the ground truth
  --classes <n>      number of classes: labels 0..n-1
  --ignore <label>   ground-truth value that is not scored (e.g. 255)`,
  panoptic: `panoptes eval panoptic --gt-json <file> [--gt-dir <dir>] --pred-json <file> [--pred-dir <dir>] [--categories-by-name]

Panoptic quality (PQ, SQ, RQ per class; All, Things, Stuff) of COCO panoptic predictions, by the
rules of the COCO panoptic API. Prints one JSON object.

  --gt-json <file>       ground-truth COCO panoptic JSON (with categories and isthing)
  --gt-dir <dir>         its PNG folder (default: the JSON path without .json)
  --pred-json <file>     predicted COCO panoptic JSON
  --pred-dir <dir>       its PNG folder (default: the JSON path without .json)
  --categories-by-name   match prediction categories to ground-truth ones by name, not id`,
  'video-panoptic': `panoptes eval video-panoptic --gt <dir> --pred <dir> [--categories-by-name]

Video panoptic quality (VPQ, windows k = 0, 5, 10, 15 as VPSNet) and segmentation and tracking
quality (STQ, as deeplab2) of panoptic sequences. Each folder holds <sequence>/panoptic.json and
the PNGs it names, the layout --save-panoptic writes; a folder with panoptic.json in it is one
sequence. Segment ids must be track ids: one object, one id, in every frame. Prints one JSON object.

  --gt <dir>             ground-truth sequences
  --pred <dir>           predicted sequences, named like the ground truth's
  --categories-by-name   match prediction categories to ground-truth ones by name, not id`,
};

/** parseArgs, with its errors (unknown flag, missing value) turned into usage errors. */
function parseFlags<R>(kind: SegmentationEvalKind, parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`eval ${kind}: ${(err as Error).message}`);
  }
}

const HELP = { type: 'boolean', short: 'h' } as const;

/** The confusion matrix holds classes² counts: 4096 classes is 134 MB already. */
const MAX_CLASSES = 4096;

function required(kind: SegmentationEvalKind, values: Record<string, unknown>, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value === '') throw new UsageError(`eval ${kind}: --${flag} is required`);
  return value;
}

function wholeNumber(kind: SegmentationEvalKind, value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`eval ${kind}: --${flag} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** `panoptes.json` → `panoptes`, panopticapi's default PNG folder beside its JSON. */
const folderBesideJson = (file: string) => (file.toLowerCase().endsWith('.json') ? file.slice(0, -5) : file);

const SEMANTIC_FLAGS = {
  gt: { type: 'string' },
  pred: { type: 'string' },
  classes: { type: 'string' },
  ignore: { type: 'string' },
  help: HELP,
} as const;

const PANOPTIC_FLAGS = {
  'gt-json': { type: 'string' },
  'gt-dir': { type: 'string' },
  'pred-json': { type: 'string' },
  'pred-dir': { type: 'string' },
  'categories-by-name': { type: 'boolean' },
  help: HELP,
} as const;

const VIDEO_FLAGS = {
  gt: { type: 'string' },
  pred: { type: 'string' },
  'categories-by-name': { type: 'boolean' },
  help: HELP,
} as const;

/** Runs `panoptes eval <kind> <args>`; returns the exit code. */
export async function evalSegmentationCommand(
  kind: SegmentationEvalKind,
  args: readonly string[],
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const print = (result: unknown) => write(JSON.stringify(result, null, 2) + '\n');
  const showUsage = () => {
    write(EVAL_SEGMENTATION_USAGE[kind] + '\n');
    return 0;
  };
  switch (kind) {
    case 'semantic': {
      const { values } = parseFlags(kind, () => parseArgs({ args: [...args], options: SEMANTIC_FLAGS }));
      if (values.help) return showUsage();
      const classes = wholeNumber(kind, required(kind, values, 'classes'), 'classes', 1, MAX_CLASSES);
      const ignoreLabel = values.ignore === undefined ? undefined : wholeNumber(kind, values.ignore, 'ignore', 0, 65535);
      const gtDir = required(kind, values, 'gt');
      const predDir = required(kind, values, 'pred');
      print(await evaluateSemantic({ gtDir, predDir, classes, ignoreLabel }));
      return 0;
    }
    case 'panoptic': {
      const { values } = parseFlags(kind, () => parseArgs({ args: [...args], options: PANOPTIC_FLAGS }));
      if (values.help) return showUsage();
      const gtJson = required(kind, values, 'gt-json');
      const predJson = required(kind, values, 'pred-json');
      print(
        await evaluatePanoptic({
          gtJson,
          predJson,
          gtDir: values['gt-dir'] ?? folderBesideJson(gtJson),
          predDir: values['pred-dir'] ?? folderBesideJson(predJson),
          categoriesByName: values['categories-by-name'] ?? false,
        }),
      );
      return 0;
    }
    case 'video-panoptic': {
      const { values } = parseFlags(kind, () => parseArgs({ args: [...args], options: VIDEO_FLAGS }));
      if (values.help) return showUsage();
      print(
        await evaluateVideoPanoptic({
          gtRoot: path.resolve(required(kind, values, 'gt')),
          predRoot: path.resolve(required(kind, values, 'pred')),
          categoriesByName: values['categories-by-name'] ?? false,
        }),
      );
      return 0;
    }
    default:
      throw new UsageError(`eval: unknown kind "${String(kind)}"; expected semantic, panoptic or video-panoptic`);
  }
}
