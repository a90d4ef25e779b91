/**
 * The model catalog (`models/catalog.yaml`): what each model expects and returns, so the rest
 * of the code never hard-codes a model's input size, colour order or class list.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, parseOrExplain } from '../../pipeline/config/validation.ts';
import type { ClassSet } from '../../pipeline/frame.ts';

export type { ClassSet } from '../../pipeline/frame.ts';

/**
 * How a model's outputs are read: `semantic-labels` (argmax label map), `yolo-seg` (YOLOv8/11
 * boxes, scores, mask coefficients and prototypes), and the box-only detectors `yolo-detect`
 * (YOLOv8/11 detect head), `yolox` and `nanodet`.
 */
export const DECODERS = ['semantic-labels', 'yolo-seg', 'yolo-detect', 'yolox', 'nanodet', 'density'] as const;
export type Decoder = (typeof DECODERS)[number];

const rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);
const triple = z.tuple([z.number(), z.number(), z.number()]);

const classSetSchema = z.object({
  names: z.array(z.string()).min(1),
  things: z.union([z.literal('all'), z.array(z.string())]),
  void: z.array(z.string()).default([]),
  palette: z.array(rgb).optional(),
});

const inputSchema = z.object({
  name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** `grey`: one plane of luma (0.299 R + 0.587 G + 0.114 B, as OpenCV), normalized with the first mean and std. */
  colorOrder: z.enum(['rgb', 'bgr', 'grey']),
  resize: z.enum(['stretch', 'letterbox-center', 'letterbox-top-left']),
  pad: z.number().min(0).max(255).default(0),
  normalize: z.object({ scale: z.number(), mean: triple, std: triple }),
  /**
   * The model takes any input height and width (fully convolutional): `width` and `height` are
   * then only the size it is checked and warmed up at, and each run may ask for its own size.
   */
  dynamic: z.boolean().default(false),
});

const modelSchema = z.object({
  description: z.string(),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-digit lowercase hex sha256'),
  license: z.string(),
  input: inputSchema,
  outputs: z.array(z.string()).min(1),
  decoder: z.enum(DECODERS),
  /**
   * YOLO layouts: whether output0's cx, cy, w, h are fractions of the input (ST's 320 export) or
   * input pixels (Ultralytics' own exporter).
   */
  boxUnits: z.enum(['normalized', 'pixels']).default('pixels'),
  classes: z.string(),
  /**
   * Counting models: how far off a count is expected to be, as a fraction of it (the band shown
   * around every density count). Published or measured; the catalog's comment says which.
   */
  expectedError: z.number().gt(0).lt(1).optional(),
});

const catalogSchema = z.object({
  classSets: z.record(z.string(), classSetSchema),
  models: z.record(z.string(), modelSchema),
});

export type ModelInput = z.infer<typeof inputSchema>;

export interface ModelEntry {
  readonly id: string;
  readonly description: string;
  readonly file: string;
  readonly sha256: string;
  readonly license: string;
  readonly input: ModelInput;
  readonly outputs: readonly string[];
  readonly decoder: Decoder;
  readonly boxUnits: 'normalized' | 'pixels';
  readonly classes: ClassSet;
  /** Counting models: the expected relative error of a count (see the schema). */
  readonly expectedError?: number;
}

export type ModelCatalog = ReadonlyMap<string, ModelEntry>;

export const DEFAULT_CATALOG_FILE = fileURLToPath(new URL('../../models/catalog.yaml', import.meta.url));

function classSetFrom(name: string, raw: z.infer<typeof classSetSchema>, file: string): ClassSet {
  const known = new Set(raw.names);
  const check = (list: readonly string[], key: string) => {
    const unknown = list.filter((c) => !known.has(c));
    if (unknown.length) {
      throw new ConfigError(`${file}: classSets.${name}.${key}: names no class of the set: ${unknown.join(', ')}`);
    }
  };
  if (raw.things !== 'all') check(raw.things, 'things');
  check(raw.void, 'void');
  if (raw.palette && raw.palette.length !== raw.names.length) {
    throw new ConfigError(
      `${file}: classSets.${name}.palette: expected one colour per class (${raw.names.length}), found ${raw.palette.length}`,
    );
  }
  const things = raw.things === 'all' ? known : new Set(raw.things);
  const voids = new Set(raw.void);
  return {
    name,
    names: raw.names,
    isThing: raw.names.map((c) => things.has(c)),
    isVoid: raw.names.map((c) => voids.has(c)),
    palette: raw.palette,
  };
}

/** Reads and checks the catalog; a problem names the file and the key. */
export function loadModelCatalog(file: string = DEFAULT_CATALOG_FILE): ModelCatalog {
  const raw = parseOrExplain(catalogSchema, parseYaml(readFileSync(file, 'utf8')), { file });
  const classSets = new Map(Object.entries(raw.classSets).map(([name, set]) => [name, classSetFrom(name, set, file)]));
  const models = new Map<string, ModelEntry>();
  for (const [id, model] of Object.entries(raw.models)) {
    const classes = classSets.get(model.classes);
    if (!classes) {
      throw new ConfigError(
        `${file}: models.${id}.classes: expected one of ${[...classSets.keys()].join(', ')}, found "${model.classes}"`,
      );
    }
    models.set(id, { id, ...model, classes });
  }
  return models;
}

/** The entry for `id`, or an error that lists the ids the catalog has. */
export function findModel(catalog: ModelCatalog, id: string): ModelEntry {
  const entry = catalog.get(id);
  if (!entry) {
    throw new ConfigError(`unknown model "${id}": the catalog has ${[...catalog.keys()].join(', ')} (models/catalog.yaml)`);
  }
  return entry;
}
