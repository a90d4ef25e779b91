import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './validation.ts';

/** The repository root (this file is pipeline/config/data-dir.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where models and clips live. In order: `PANOPTES_DATA`, the config's `dataDir` (relative to
 * the config file), then `../shared` beside the repository. The folder must exist; what it
 * should hold (models/, replay/) is checked by whoever reads from it, with a precise message.
 */
export function resolveDataDir(
  configDataDir: string | undefined,
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const [dir, from] = env.PANOPTES_DATA
    ? [path.resolve(env.PANOPTES_DATA), 'PANOPTES_DATA']
    : configDataDir
      ? [path.resolve(path.dirname(configFile), configDataDir), `dataDir in ${configFile}`]
      : [path.resolve(REPO_ROOT, '..', 'shared'), 'the default, ../shared beside the repository'];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      `data directory not found: ${dir} (from ${from}). ` +
        `Point PANOPTES_DATA at the folder that holds models/ and replay/, e.g. PANOPTES_DATA=/data/panoptes npm start`,
    );
  }
  return dir;
}
