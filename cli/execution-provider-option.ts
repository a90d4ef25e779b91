import type { ExecutionProvider } from '../pipeline/node.ts';
import { oneOf } from './parse-command-line.ts';

const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'tensorrt'];

/** `--ep <provider>` of `panoptes run` and `panoptes bench`. */
export const executionProviderOption = (value: string | undefined): ExecutionProvider | undefined =>
  oneOf(value, '--ep', EXECUTION_PROVIDERS);
