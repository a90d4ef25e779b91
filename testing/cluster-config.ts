/**
 * The cluster tests' and bench's config: `streams` light streams, each the MOTChallenge public
 * detections of MOT17-02 replayed at a low frame rate (no model: two cores hold six of them),
 * tracked, counted on a line and in a zone.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeClusterConfig(folder: string, dataDir: string, options: { streams: number; fps: number; realtime?: boolean }): string {
  const sources = Array.from({ length: options.streams }, (_, i) =>
    `  - { id: cam${i + 1}, type: mot-detections, path: replay/sequences/MOT17-02-FRCNN, realtime: ${options.realtime ?? true}, fps: ${options.fps} }`,
  );
  const file = path.join(folder, 'cluster.yaml');
  writeFileSync(
    file,
    [
      `dataDir: ${JSON.stringify(dataDir)}`,
      'sources:',
      ...sources,
      'pipeline:',
      '  - { type: tracker, highScore: 0.5, lowScore: 0.1, newTrackScore: 0.6, confirmAfter: { frames: 2 }, keepLost: { seconds: 1 } }',
      '  - type: analytics',
      '    lineRules: { minAgeMs: 0, minDistance: 0.01, hysteresisFrames: 2 }',
      '    lines: [{ name: middle, points: [[0.5, 0], [0.5, 1]], in: right }]',
      '    zones: [{ name: left, polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]], inertiaFrames: 2 }]',
      'sinks: []',
      '',
    ].join('\n'),
  );
  return file;
}
