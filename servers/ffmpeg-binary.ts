/**
 * Where the ffmpeg and ffprobe executables come from.
 *
 * In order: the path in the environment (`FFMPEG_PATH` / `FFPROBE_PATH`), an executable of that
 * name on `PATH`, and last the static build shipped in the npm packages `@ffmpeg-installer/ffmpeg`
 * and `@ffprobe-installer/ffprobe`. A system binary wins over the packaged one because the
 * packaged ffmpeg is old (4.1, 2018) and a machine that has its own usually has a newer one.
 *
 * The pipeline runs ffmpeg only, also to probe inputs (nodes/sources/probe.ts): the packaged
 * ffprobe is another build that crashes on MPEG-TS. `ffprobePath` is kept for tools and tests
 * that want it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A resolved executable and, for log lines, where it was found. */
export interface ResolvedBinary {
  /** Absolute path of the executable. */
  readonly path: string;
  /** Where it came from, e.g. `env FFMPEG_PATH`, `PATH`, `npm @ffmpeg-installer/ffmpeg (build 20181210-g0e8eb07980)`. */
  readonly from: string;
}

interface BinarySpec {
  /** The executable's name, as on `PATH` (without `.exe`). */
  readonly name: string;
  readonly envVar: string;
  /** The npm package whose `path` export points at a bundled build. */
  readonly installerPackage: string;
}

const FFMPEG: BinarySpec = { name: 'ffmpeg', envVar: 'FFMPEG_PATH', installerPackage: '@ffmpeg-installer/ffmpeg' };
const FFPROBE: BinarySpec = { name: 'ffprobe', envVar: 'FFPROBE_PATH', installerPackage: '@ffprobe-installer/ffprobe' };

/** What the installer packages export (both ship CommonJS `module.exports = { path, version, url }`). */
interface InstallerExports {
  readonly path: string;
  readonly version: string;
}

const require = createRequire(import.meta.url);

/**
 * The ffmpeg to run: `FFMPEG_PATH`, else `ffmpeg` on `PATH`, else `@ffmpeg-installer/ffmpeg`.
 * Resolved once and cached (again if `FFMPEG_PATH` or `PATH` change, as tests do).
 *
 * @throws Error when `FFMPEG_PATH` names a file that does not exist or cannot be executed, or
 * when no ffmpeg can be found at all.
 */
export function ffmpegPath(): ResolvedBinary {
  return resolveCached(FFMPEG);
}

/**
 * The ffprobe to run: `FFPROBE_PATH`, else `ffprobe` on `PATH`, else `@ffprobe-installer/ffprobe`.
 * Cached like {@link ffmpegPath}.
 */
export function ffprobePath(): ResolvedBinary {
  return resolveCached(FFPROBE);
}

const cache = new Map<string, { key: string; binary: ResolvedBinary }>();

function resolveCached(spec: BinarySpec): ResolvedBinary {
  const key = `${process.env[spec.envVar] ?? ''}\0${process.env.PATH ?? ''}`;
  const cached = cache.get(spec.name);
  if (cached?.key === key) return cached.binary;
  const binary = resolve(spec);
  cache.set(spec.name, { key, binary });
  return binary;
}

function resolve(spec: BinarySpec): ResolvedBinary {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    if (!isFile(resolved)) {
      throw new Error(`${spec.envVar} is set to ${fromEnv}, but there is no such file: fix or unset ${spec.envVar}`);
    }
    assertExecutable(resolved, `env ${spec.envVar}`);
    return { path: resolved, from: `env ${spec.envVar}` };
  }

  const onPath = findOnPath(spec.name);
  if (onPath) return { path: onPath, from: 'PATH' };

  const installer = loadInstaller(spec);
  const from = `npm ${spec.installerPackage} (build ${installer.version})`;
  assertExecutable(installer.path, from);
  return { path: installer.path, from };
}

/**
 * Loaded on demand rather than imported: the installer packages throw when loaded on a platform
 * they have no binary for, which must not matter to someone who set `FFMPEG_PATH`.
 */
function loadInstaller(spec: BinarySpec): InstallerExports {
  try {
    return require(spec.installerPackage) as InstallerExports;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `no ${spec.name} found: ${spec.envVar} is not set, there is no ${spec.name} on PATH, ` +
        `and ${spec.installerPackage} failed to load (${reason})`,
    );
  }
}

function findOnPath(name: string): string | undefined {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const full = path.resolve(dir, candidate);
      if (isFile(full) && isExecutable(full)) return full;
    }
  }
  return undefined;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The packaged binaries get their execute bit from a postinstall `chmod u+x`, so they are
 * executable by the user who ran `npm install` only; say so instead of failing later with EACCES.
 */
function assertExecutable(file: string, from: string): void {
  if (!isExecutable(file)) {
    throw new Error(`${file} (from ${from}) is not executable by this user: chmod a+x it, or point the env at another build`);
  }
}
