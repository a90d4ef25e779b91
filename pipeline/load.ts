import { checkConfigFile, readConfigFile } from './config/config-file.ts';
import { resolveDataDir } from './config/data-dir.ts';
import { resolveGraphSpec, type GraphSpec } from './config/resolve.ts';
import type { NodeRegistry } from './registry.ts';

/**
 * Reads a config file, lets `edit` change the parsed YAML (command-line overrides), checks it,
 * and resolves it against the registry and the data directory. Every mistake is reported here,
 * before anything starts. The registry comes from the caller (the CLI passes the built-in
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
  const config = checkConfigFile(raw, file);
  const spec = resolveGraphSpec(config, file, registry);
  return { spec, dataDir: resolveDataDir(spec.dataDir, file) };
}
