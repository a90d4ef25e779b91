/**
 * COCO panoptic JSON: `annotations[]` (one per image: `image_id`, `file_name`, `segments_info[]`
 * with `id`, `category_id`, `iscrowd`, `area`) and `categories[]` (`id`, `name`, `isthing`).
 * This is the format panopticapi reads, and the one `panoptic-png` sinks write.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { keyPath } from '../../pipeline/config/validation.ts';

export interface SegmentInfo {
  readonly id: number;
  readonly categoryId: number;
  readonly isCrowd: boolean;
  /** As the file gives it; panopticapi uses the ground truth's stored area. */
  readonly area: number | undefined;
}

export interface PanopticAnnotation {
  readonly imageId: string | number;
  /** Relative to the PNG folder. */
  readonly fileName: string;
  readonly segments: readonly SegmentInfo[];
}

export interface Category {
  readonly id: number;
  readonly name: string;
  readonly isThing: boolean;
}

export interface CocoPanoptic {
  readonly file: string;
  readonly annotations: readonly PanopticAnnotation[];
  /** By id, in file order; empty when the file has none (prediction files may omit them). */
  readonly categories: ReadonlyMap<number, Category>;
}

const flag = z.union([z.literal(0), z.literal(1), z.boolean()]);

const schema = z.object({
  annotations: z.array(
    z.object({
      image_id: z.union([z.number(), z.string()]),
      file_name: z.string().min(1),
      segments_info: z.array(
        z.object({
          id: z.number().int().min(1).max(256 ** 3 - 1),
          category_id: z.number().int(),
          iscrowd: flag.optional(),
          area: z.number().nonnegative().optional(),
        }),
      ),
    }),
  ),
  categories: z
    .array(z.object({ id: z.number().int(), name: z.string().optional(), isthing: flag.optional() }))
    .optional(),
});

const MAX_LISTED_PROBLEMS = 5;

/**
 * Reads and checks a COCO panoptic JSON file. With `requireCategories` (ground truth), the
 * file must list its categories with `isthing`, since Things/Stuff averages depend on it.
 */
export async function readCocoPanopticJson(file: string, flagName: string, requireCategories: boolean): Promise<CocoPanoptic> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${flagName} ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${flagName} ${file}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const lines = issues.slice(0, MAX_LISTED_PROBLEMS).map((issue) => `  ${keyPath(issue.path)}: ${issue.message}`);
    const more = issues.length > MAX_LISTED_PROBLEMS ? `\n  ...and ${issues.length - MAX_LISTED_PROBLEMS} more` : '';
    throw new Error(`${flagName} ${file}: not a COCO panoptic JSON file:\n${lines.join('\n')}${more}`);
  }
  const data = parsed.data;
  if (requireCategories && !data.categories?.length) {
    throw new Error(`${flagName} ${file}: a ground-truth file must list its categories ("categories": [{ "id", "name", "isthing" }])`);
  }
  const categories = new Map<number, Category>();
  for (const [index, c] of (data.categories ?? []).entries()) {
    if (requireCategories && c.isthing === undefined) {
      throw new Error(`${flagName} ${file}: categories[${index}] (id ${c.id}) has no "isthing"; set it to 1 for things, 0 for stuff`);
    }
    categories.set(c.id, { id: c.id, name: c.name ?? String(c.id), isThing: c.isthing === 1 || c.isthing === true });
  }
  const annotations = data.annotations.map((a) => ({
    imageId: a.image_id,
    fileName: a.file_name,
    segments: a.segments_info.map((s) => ({
      id: s.id,
      categoryId: s.category_id,
      isCrowd: s.iscrowd === 1 || s.iscrowd === true,
      area: s.area,
    })),
  }));
  return { file, annotations, categories };
}

/**
 * Rewrites a prediction's category ids to the ground truth's, matching categories by name:
 * for predictions that number classes their own way (a model's class index) while the ground
 * truth uses dataset ids (Cityscapes label ids).
 */
export function remapCategoriesByName(pred: CocoPanoptic, gtCategories: ReadonlyMap<number, Category>, flagName: string): CocoPanoptic {
  if (pred.categories.size === 0) {
    throw new Error(`${flagName} ${pred.file}: --categories-by-name needs the prediction's "categories" list with names`);
  }
  const gtByName = new Map([...gtCategories.values()].map((c) => [c.name, c.id]));
  const toGt = new Map<number, number>();
  for (const c of pred.categories.values()) {
    const gtId = gtByName.get(c.name);
    if (gtId !== undefined) toGt.set(c.id, gtId);
  }
  const annotations = pred.annotations.map((a) => ({
    ...a,
    segments: a.segments.map((s) => {
      const gtId = toGt.get(s.categoryId);
      if (gtId === undefined) {
        const name = pred.categories.get(s.categoryId)?.name;
        throw new Error(
          `${flagName} ${pred.file}: image ${a.imageId}: segment ${s.id} has category ${s.categoryId}` +
            (name === undefined ? ', which its "categories" list lacks' : ` ("${name}"), a name the ground truth has no category for`) +
            `; ground-truth names: ${[...gtByName.keys()].join(', ')}`,
        );
      }
      return { ...s, categoryId: gtId };
    }),
  }));
  return { ...pred, annotations, categories: gtCategories };
}
