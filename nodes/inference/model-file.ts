import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelEntry } from './model-catalog.ts';

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
}

/**
 * Finds the model's weights under the data directory and checks them against the catalog's
 * sha256, so a wrong or damaged file fails here, with a fix, and not as garbage output.
 * Returns the file's bytes (onnxruntime takes them directly; no second read).
 */
export function readVerifiedModel(entry: ModelEntry, dataDir: string): Uint8Array {
  const file = path.resolve(dataDir, entry.file);
  if (!existsSync(file)) {
    throw new ModelFileError(
      `model "${entry.id}" not found: ${file} does not exist. ` +
        `The catalog (models/catalog.yaml) expects it at ${entry.file} under the data directory ${dataDir}; ` +
        `point PANOPTES_DATA (or the config's dataDir) at the folder that holds models/.`,
    );
  }
  const bytes = readFileSync(file);
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== entry.sha256) {
    throw new ModelFileError(
      `model "${entry.id}": checksum mismatch for ${file}: expected sha256 ${entry.sha256}, found ${found}. ` +
        `The file is not the model the catalog describes: copy the right file, or update models/catalog.yaml if you changed the model on purpose.`,
    );
  }
  return bytes;
}
