/**
 * The motion-segmentation options a shipped config file sets, parsed by the node's own schema
 * (defaults filled in) and turned into the segmenter's options: benches run what the config
 * runs. Reads the YAML alone, not the whole graph. The node module still brings the pipeline's
 * native libraries in, which slows the segmenter by about a quarter in the same process: a
 * bench that times it (motion.bench.ts) writes its settings out instead.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { motionOptionsOf, motionSegmentation } from '../nodes/motion/motion-segmentation.ts';
import type { MotionOptions } from '../nodes/motion/motion-segmenter.ts';

export function configMotionOptions(file: string): MotionOptions {
  const config = parse(readFileSync(file, 'utf8')) as { pipeline?: readonly Record<string, unknown>[] };
  const step = config.pipeline?.find((s) => s.type === 'motion-segmentation');
  if (!step) throw new Error(`${file} has no motion-segmentation step`);
  const { type: _type, ...options } = step;
  return motionOptionsOf(motionSegmentation.options.parse(options));
}
