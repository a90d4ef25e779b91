/**
 * Checks that a sink can write where it is told to, before the first frame: a run that would
 * process every frame and only then find that `--record` names a folder, or that `--events`
 * lies under a file, wastes the run and says so too late.
 *
 * The check does what the sink will do (makes the folders, creates the file) rather than guess
 * from permission bits: that answers for root, read-only mounts and ACLs alike. A file that
 * did not exist before is removed again, so a run that fails later leaves nothing behind.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** Why `file` cannot be written (its folder made if need be), or undefined when it can. */
export function outputFileProblem(file: string): string | undefined {
  const absolute = path.resolve(file);
  const existing = statOf(absolute);
  if (existing?.isDirectory()) return `cannot write ${absolute}: it is a directory; give a file name`;
  const folderProblem = folderProblemOf(path.dirname(absolute), absolute);
  if (folderProblem) return folderProblem;
  // A FIFO or a device (/dev/stdout) is written as it is; opening one here could block until
  // its reader comes.
  if (existing && !existing.isFile()) return undefined;
  try {
    closeSync(openSync(absolute, 'a'));
  } catch (error) {
    return `cannot create ${absolute}: ${reasonOf(error)}`;
  }
  if (!existing) rmSync(absolute, { force: true });
  return undefined;
}

/** Why files cannot be written in folder `dir` (made if need be), or undefined when they can. */
export function outputFolderProblem(dir: string): string | undefined {
  const absolute = path.resolve(dir);
  const existing = statOf(absolute);
  if (existing && !existing.isDirectory()) return `cannot use ${absolute} as a folder: it is a file`;
  const folderProblem = folderProblemOf(absolute, absolute);
  if (folderProblem) return folderProblem;
  const probe = path.join(absolute, `.panoptes-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w'));
    rmSync(probe, { force: true });
  } catch (error) {
    return `cannot create files in ${absolute}: ${reasonOf(error)}`;
  }
  return undefined;
}

/** Throws `Error("<what> <given>: <problem>")` when {@link outputFileProblem} finds one. */
export function assertOutputFile(what: string, given: string): void {
  const problem = outputFileProblem(given);
  if (problem) throw new Error(`${what} ${given}: ${problem}`);
}

/** Throws `Error("<what> <given>: <problem>")` when {@link outputFolderProblem} finds one. */
export function assertOutputFolder(what: string, given: string): void {
  const problem = outputFolderProblem(given);
  if (problem) throw new Error(`${what} ${given}: ${problem}`);
}

/** Makes `folder` (for `target`), naming the path component that is in the way. */
function folderProblemOf(folder: string, target: string): string | undefined {
  // The nearest part of the path that exists must be a folder: /etc/hostname/x.jsonl cannot be.
  const missing: string[] = [];
  let ancestor = folder;
  while (!existsSync(ancestor) && path.dirname(ancestor) !== ancestor) {
    missing.unshift(ancestor);
    ancestor = path.dirname(ancestor);
  }
  if (!statOf(ancestor)?.isDirectory()) return `cannot create ${target}: ${ancestor} is not a directory`;
  // One level at a time: a recursive mkdir under /proc never returns (Node 20).
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statOf(dir)?.isDirectory()) continue;
      return `cannot create ${target}: cannot make the folder ${dir}: ${reasonOf(error)}`;
    }
  }
  return undefined;
}

function statOf(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'not a directory',
  EISDIR: 'it is a directory',
  ENOSPC: 'no space left on the device',
  ENOENT: 'no such file or directory',
};

/** The error's reason in words, without Node's `EACCES: ..., open '<path>'` decoration. */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
}
