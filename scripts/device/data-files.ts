/**
 * The data files a config uses, one per line, relative to the data directory: its models' weights
 * and its sources' clips (URLs and absolute paths are left out). scripts/device/pack.sh copies
 * these, and only these, for a machine that cannot reach the shared data.
 *
 *     npx tsx scripts/device/data-files.ts configs/dashcam.yaml
 */
import path from 'node:path';
import { modelsOf } from '../../bench/inference-bench.ts';
import { isUrl } from '../../nodes/sources/probe.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { builtinNodes } from '../../nodes/index.ts';

const config = process.argv[2] ?? 'configs/dashcam.yaml';
const { spec } = loadPipeline(config, builtinNodes());
const clips = spec.sources
  .map((source) => (source.options as { uri?: unknown }).uri)
  .filter((uri): uri is string => typeof uri === 'string' && !isUrl(uri) && !path.isAbsolute(uri) && !uri.startsWith('file:'));
for (const file of new Set([...modelsOf(spec).map((model) => model.file), ...clips])) console.log(file);
