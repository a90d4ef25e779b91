import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** How much of the clips folder to keep: the newest files within `days` and `bytes`. */
export interface Retention {
  readonly days?: number;
  readonly bytes?: number;
}

/** Files kept by clips: the clips themselves and the event snapshots. */
const KEPT_FILE = /\.(mkv|jpg)$/;

/**
 * Removes clips and snapshots, the oldest (by modification time) first, from the stream folders
 * under `dir`: every one older than `days`, then as many as it takes to bring what is left under
 * `bytes`. A snapshot is written when its event happens and its clip when the clip ends, so a
 * clip's snapshots go just before it. Clips being written (their parts folders) and the index are
 * never touched. Returns the removed files, relative to `dir`.
 */
export async function applyRetention(dir: string, retention: Retention, nowMs = Date.now()): Promise<string[]> {
  if (retention.days === undefined && retention.bytes === undefined) return [];
  const files: { name: string; bytes: number; mtimeMs: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    for (const name of await readdir(path.join(dir, entry.name))) {
      if (!KEPT_FILE.test(name) || name.startsWith('.')) continue;
      const relative = path.join(entry.name, name);
      const info = await stat(path.join(dir, relative)).catch(() => undefined); // removed meanwhile
      if (info?.isFile()) files.push({ name: relative, bytes: info.size, mtimeMs: info.mtimeMs });
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
  let total = files.reduce((sum, f) => sum + f.bytes, 0);
  const oldestKept = retention.days === undefined ? -Infinity : nowMs - retention.days * 86_400_000;
  const removed: string[] = [];
  for (const file of files) {
    const tooOld = file.mtimeMs < oldestKept;
    const tooMuch = retention.bytes !== undefined && total > retention.bytes;
    if (!tooOld && !tooMuch) break;
    await rm(path.join(dir, file.name), { force: true });
    total -= file.bytes;
    removed.push(file.name);
  }
  return removed;
}
