/**
 * `panoptes eval semantic | panoptic | video-panoptic`: reads the options, runs the evaluation and
 * prints one JSON object. Option mistakes throw a UsageError (exit code 2 with the usage);
 * problems with the files throw an Error naming the file and the fix.
 */
import path from 'node:path';
import { writeToStdout, type Write } from './command.ts';
import { parseCommandLine, required, wholeNumber } from './parse-command-line.ts';

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

/** The confusion matrix holds classes² counts: 4096 classes is 134 MB already. */
const MAX_CLASSES = 4096;

/** `panoptes.json` → `panoptes`, panopticapi's default PNG folder beside its JSON. */
const folderBesideJson = (file: string) => (file.toLowerCase().endsWith('.json') ? file.slice(0, -5) : file);

const SEMANTIC_OPTIONS = {
  gt: { type: 'string' },
  pred: { type: 'string' },
  classes: { type: 'string' },
  ignore: { type: 'string' },
} as const;

const PANOPTIC_OPTIONS = {
  'gt-json': { type: 'string' },
  'gt-dir': { type: 'string' },
  'pred-json': { type: 'string' },
  'pred-dir': { type: 'string' },
  'categories-by-name': { type: 'boolean', default: false },
} as const;

const VIDEO_OPTIONS = {
  gt: { type: 'string' },
  pred: { type: 'string' },
  'categories-by-name': { type: 'boolean', default: false },
} as const;

/**
 * Runs `panoptes eval <kind> <args>`; returns the exit code. Each evaluation is loaded once its
 * options are known to be good, so that --help and a usage mistake answer without loading it
 * (the panoptic JSON schema alone brings zod, a third of a second).
 */
export async function evalSegmentationCommand(kind: SegmentationEvalKind, args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const print = (result: unknown) => write(JSON.stringify(result, null, 2) + '\n');
  const showUsage = () => {
    write(EVAL_SEGMENTATION_USAGE[kind] + '\n');
    return 0;
  };
  switch (kind) {
    case 'semantic': {
      const { values, help } = parseCommandLine(args, { options: SEMANTIC_OPTIONS });
      if (help) return showUsage();
      const classes = wholeNumber(required(values.classes, '--classes'), '--classes', { min: 1, max: MAX_CLASSES });
      const ignoreLabel = wholeNumber(values.ignore, '--ignore', { max: 65535 });
      const gtDir = required(values.gt, '--gt');
      const predDir = required(values.pred, '--pred');
      const { evaluateSemantic } = await import('../evaluation/segmentation/evaluate-semantic.ts');
      print(await evaluateSemantic({ gtDir, predDir, classes, ignoreLabel }));
      return 0;
    }
    case 'panoptic': {
      const { values, help } = parseCommandLine(args, { options: PANOPTIC_OPTIONS });
      if (help) return showUsage();
      const gtJson = required(values['gt-json'], '--gt-json');
      const predJson = required(values['pred-json'], '--pred-json');
      const { evaluatePanoptic } = await import('../evaluation/segmentation/evaluate-panoptic.ts');
      print(
        await evaluatePanoptic({
          gtJson,
          predJson,
          gtDir: values['gt-dir'] ?? folderBesideJson(gtJson),
          predDir: values['pred-dir'] ?? folderBesideJson(predJson),
          categoriesByName: values['categories-by-name'],
        }),
      );
      return 0;
    }
    case 'video-panoptic': {
      const { values, help } = parseCommandLine(args, { options: VIDEO_OPTIONS });
      if (help) return showUsage();
      const { evaluateVideoPanoptic } = await import('../evaluation/segmentation/evaluate-video-panoptic.ts');
      print(
        await evaluateVideoPanoptic({
          gtRoot: path.resolve(required(values.gt, '--gt')),
          predRoot: path.resolve(required(values.pred, '--pred')),
          categoriesByName: values['categories-by-name'],
        }),
      );
      return 0;
    }
  }
}
