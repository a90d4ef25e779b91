import { checkConfigFile, readConfigFile, salvageConfigFile } from './config/config-file.ts';
import { resolveDataDir } from './config/data-dir.ts';
import { resolveGraphSpec, type GraphSpec } from './config/resolve.ts';
import { ConfigProblems } from './config/validation.ts';
import type { NodeRegistry } from './registry.ts';

/**
 * Reads a config file, lets `edit` change the parsed YAML (command-line overrides), checks it,
 * and resolves it against the registry and the data directory. Every mistake is reported here,
 * before anything starts, and all at once: a wrong outline (an unknown top-level key, say) does
 * not hide the unknown keys and bad values of the entries, which are checked as far as they can
 * be read. The registry comes from the caller (the CLI passes the built-in
 * nodes), since the pipeline layer knows no node type of its own.
 */
export function loadPipeline(
  configFile: string,
  registry: NodeRegistry,
  edit: (raw: Record<string, unknown>) => void = () => {},
): { spec: GraphSpec; dataDir: string } {
  const file = configFile;
  const raw = readConfigFile(file);
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) edit(raw as Record<string, unknown>);
  const problems = new ConfigProblems();
  const config = problems.run(() => checkConfigFile(raw, file)) ?? salvageConfigFile(raw);
  if (!config) problems.throwIfAny();
  const spec = resolveGraphSpec(config!, file, registry, problems);
  return { spec, dataDir: resolveDataDir(spec.dataDir, file) };
}
