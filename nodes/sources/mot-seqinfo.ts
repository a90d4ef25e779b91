/**
 * A MOTChallenge sequence's `seqinfo.ini` (`[Sequence]` then `name=`, `imDir=img1`,
 * `frameRate=30`, `seqLength=`, `imWidth=`, `imHeight=`, `imExt=.jpg`): read by the sources that
 * play a MOTChallenge sequence, its public detections (mot-detections-source.ts) or its images
 * (image-sequence.ts), for the frame rate and size the benchmark states.
 */
import { readFileSync } from 'node:fs';

/** `key=value` lines of a MOTChallenge seqinfo.ini; section headers and comments are skipped. */
export function readSeqInfo(file: string): Record<string, string> {
  const entries = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => /^\s*([^=#;[\]]+?)\s*=\s*(.*?)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
  return Object.fromEntries(entries);
}
