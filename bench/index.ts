/**
 * Every benchmark of the project, one after the other: `npm run bench [-- <bench options>]`.
 *
 * - the pipeline benchmark (`panoptes bench`, see pipeline-bench.ts), given this command's arguments;
 * - the tracker micro-benchmark (tracker.bench.ts);
 * - the segmentation evaluation benchmark (segmentation-eval.bench.ts);
 * - what viewers cost the pipeline, and render + encode time at 1280x720 (viewer-clients.bench.ts).
 *
 * With `--json`, one JSON object: `{ pipeline, tracker, segmentationEval, viewerClients }`.
 */
import { benchStandalone } from './pipeline-bench.ts';
import { benchSegmentationEval } from './segmentation-eval.bench.ts';
import { benchTracker } from './tracker.bench.ts';
import { benchViewerClients } from './viewer-clients.bench.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const help = args.includes('--help') || args.includes('-h');

let output = '';
const code = await benchStandalone(args, json ? (s) => (output += s) : (s) => void process.stdout.write(s));
// Help, a usage or config mistake, or a failed setup: nothing else is worth running.
if (help || code === 2 || (json && !output.trim())) process.exit(code);

const tracker = [50, 200].map((n) => benchTracker(n));
const evalResult = await benchSegmentationEval();
const viewerClients = await benchViewerClients();

if (json) {
  const pipeline = output.trim() ? (JSON.parse(output) as unknown) : undefined;
  process.stdout.write(JSON.stringify({ pipeline, tracker, segmentationEval: evalResult, viewerClients }) + '\n');
} else {
  process.stdout.write('\ntracker (ByteTrack-style, 300 frames of synthetic walkers)\n');
  for (const r of tracker) process.stdout.write(`  ${r.objects} objects: ${r.msPerFrame.toFixed(2)} ms per frame (${r.tracks} tracks alive)\n`);
  process.stdout.write(`\nsegmentation evaluation\n  ${JSON.stringify(evalResult)}\n`);
  process.stdout.write(`\nviewer clients (default pipeline, 0 vs 50 clients of which 10 never read)\n  ${JSON.stringify(viewerClients)}\n`);
}
process.exit(code);
