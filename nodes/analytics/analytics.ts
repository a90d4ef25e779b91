import { z } from 'zod';
import { withSection, type FrameAnalytics, type PanopticFrame, type TrackedObject } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { anchorOf, type AnchorKind } from './anchor.ts';
import { DensityHeatmap } from './density-heatmap.ts';
import { nameEvents, type UnnamedEvent } from './event-id.ts';
import { DIRECTIONS, type Point } from './geometry.ts';
import { LineCounter, type ObjectSighting } from './line-counter.ts';
import { ObjectIdentities } from './object-identities.ts';
import { ZoneMonitor, type ZoneSighting } from './zone-monitor.ts';

const point = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);
const anchorKind = z.enum(['bottom-center', 'center', 'mask-centroid']);

const lineSchema = z.strictObject({
  name: z.string().min(1),
  points: z.array(point).min(2).describe('Polyline in normalized coordinates: [[x, y], ...], 0..1 of width and height'),
  in: z.enum(['down', 'up', 'left', 'right']).describe('Screen direction of an "in" crossing; the opposite is "out"'),
  anchor: anchorKind.optional().describe('The point of an object that must cross; the node default when omitted'),
});

const classCounts = z.record(z.string(), z.number().int().min(0));

/** Totals counted before, to continue from: what a stream moved to another worker keeps (cluster/). */
const resumeSchema = z.strictObject({
  lines: z.record(z.string(), z.strictObject({ in: classCounts, out: classCounts })).default({}),
  zones: z.record(z.string(), z.strictObject({ entered: classCounts })).default({}),
  unique: classCounts.default({}),
});

/** Saved totals an analytics node continues from (its `resume` option). */
export type AnalyticsResume = z.input<typeof resumeSchema>;

const zoneSchema = z.strictObject({
  name: z.string().min(1),
  polygon: z.array(point).min(3).describe('Polygon in normalized coordinates'),
  insideBy: z
    .union([z.literal('anchor'), z.number().gt(0).max(1)])
    .default('anchor')
    .describe('"anchor": the anchor point is inside; a number: at least that fraction of the mask is'),
  inertiaFrames: z.number().int().min(1).default(3).describe('Frames on the other side before an enter or exit'),
});

/**
 * Analytics: per-frame counts, stuff coverage, unique objects, line crossings, zone occupancy
 * and crowds, from the tracks (and the panoptic frame, for coverage and mask-based zones).
 * Everything is keyed by object, not track, so a track id change near a line or in a zone does
 * not count twice (object-identities.ts). State of objects gone for good is dropped, so a
 * stream that runs for weeks keeps a bounded memory.
 *
 * ```yaml
 * - type: analytics
 *   lines: [{ name: stopline, points: [[0.1, 0.7], [0.9, 0.7]], in: down }]
 *   zones: [{ name: crossing, polygon: [[0.2, 0.5], [0.8, 0.5], [0.8, 0.9], [0.2, 0.9]] }]
 * ```
 */
export const analytics = defineOperator({
  type: 'analytics',
  description: 'Counts per class, line crossings, zone occupancy and crowd density from the tracks.',
  needs: ['tracks'],
  adds: ['analytics'],
  options: z.object({
    anchor: anchorKind.default('bottom-center').describe('Default anchor point of an object'),
    lines: z.array(lineSchema).default([]),
    lineRules: z
      .strictObject({
        hysteresisFrames: z.number().int().min(1).default(3).describe('Frames on the new side before a crossing counts'),
        minAgeMs: z.number().min(0).default(300).describe('Least track age for a crossing to count'),
        minDistance: z.number().min(0).max(1).default(0.02).describe('Least distance moved, fraction of the diagonal'),
      })
      .default({ hysteresisFrames: 3, minAgeMs: 300, minDistance: 0.02 }),
    zones: z.array(zoneSchema).default([]),
    reentry: z
      .strictObject({
        withinMs: z.number().min(0).default(1500).describe('How long after vanishing an object may come back as a new track'),
        withinDistance: z.number().min(0).max(1).default(0.08).describe('How far from where it vanished, fraction of the diagonal'),
      })
      .default({ withinMs: 1500, withinDistance: 0.08 }),
    crowd: z
      .strictObject({
        personClass: z.string().default('person'),
        heatmap: z.boolean().default(false).describe('Keep a decaying density map of where people have been'),
        heatmapCells: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([64, 36]),
        halfLifeSeconds: z.number().positive().default(10),
      })
      .default({ personClass: 'person', heatmap: false, heatmapCells: [64, 36], halfLifeSeconds: 10 }),
    resume: resumeSchema
      .optional()
      .describe('Line and zone totals and unique counts to continue from, e.g. saved before a restart; lines and zones not listed start at 0'),
  }),
  async create(options, ctx) {
    const names = [...options.lines.map((l) => l.name), ...options.zones.map((z) => z.name)];
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) throw new Error(`analytics: the name "${duplicate}" is used twice; lines and zones need unique names`);

    const identities = new ObjectIdentities(options.reentry);
    const lines = options.lines.map((l) => ({
      counter: new LineCounter({ name: l.name, points: l.points, inDirection: DIRECTIONS[l.in] }, options.lineRules),
      anchor: l.anchor ?? options.anchor,
    }));
    const zones = options.zones.map((z) => new ZoneMonitor(z, { insideBy: z.insideBy, inertiaFrames: z.inertiaFrames }));
    const heatmap = options.crowd.heatmap
      ? new DensityHeatmap(options.crowd.heatmapCells[0], options.crowd.heatmapCells[1], options.crowd.halfLifeSeconds * 1000)
      : undefined;
    const firstAnchor = new Map<number, Point>();
    const uniqueTotals: Record<string, number> = { ...options.resume?.unique };
    const uniqueSeen = new Set<number>();
    for (const line of lines) {
      const saved = options.resume?.lines[line.counter.line.name];
      if (saved) line.counter.resumeFrom(saved);
    }
    for (const zone of zones) {
      const saved = options.resume?.zones[zone.zone.name];
      if (saved) zone.resumeFrom(saved.entered);
    }

    return frameStage(ctx, (packet) => {
      const started = performance.now();
      const { frame, panoptic } = packet;
      const tracks = packet.tracks ?? [];
      const { width, height, ptsMs, stream } = frame;
      const anchorsOf = (kind: AnchorKind) => tracks.map((t) => anchorOf(t, kind, width));
      const defaultAnchors = anchorsOf(options.anchor);
      const events: UnnamedEvent[] = [];

      const gone = identities.update(
        tracks.map((t, i) => ({ trackId: t.trackId, classId: t.classId, state: t.state, anchor: defaultAnchors[i]! })),
        ptsMs,
        Math.hypot(width, height),
      );
      for (const objectId of gone) {
        firstAnchor.delete(objectId);
        uniqueSeen.delete(objectId);
        for (const line of lines) line.counter.forget(objectId);
        for (const zone of zones) {
          const exit = zone.forget(objectId, stream, ptsMs);
          if (exit) events.push(exit);
        }
      }

      const objectIds = tracks.map((t) => identities.objectId(t.trackId));
      tracks.forEach((t, i) => {
        if (!firstAnchor.has(objectIds[i]!)) firstAnchor.set(objectIds[i]!, defaultAnchors[i]!);
        if (t.state === 'confirmed' && !uniqueSeen.has(objectIds[i]!)) {
          uniqueSeen.add(objectIds[i]!);
          uniqueTotals[t.className] = (uniqueTotals[t.className] ?? 0) + 1;
        }
      });

      for (const line of lines) {
        const anchors = line.anchor === options.anchor ? defaultAnchors : anchorsOf(line.anchor);
        const sightings: ObjectSighting[] = [];
        tracks.forEach((t, i) => {
          if (t.state === 'lost') return;
          const objectId = objectIds[i]!;
          sightings.push({
            objectId,
            trackId: t.trackId,
            className: t.className,
            confirmed: t.state === 'confirmed',
            anchor: anchors[i]!,
            firstAnchor: firstAnchor.get(objectId)!,
            ageMs: t.ageMs,
          });
        });
        events.push(...line.counter.trigger(sightings, width, height, stream, ptsMs));
      }

      const zoneSightings: ZoneSighting[] = tracks.map((t, i) => ({
        objectId: objectIds[i]!,
        trackId: t.trackId,
        className: t.className,
        confirmed: t.state !== 'tentative',
        visible: t.state === 'confirmed',
        anchor: defaultAnchors[i]!,
        runs: t.runs,
      }));
      for (const zone of zones) events.push(...zone.update(zoneSightings, width, height, stream, ptsMs));

      const counts = countConfirmed(tracks);
      const persons = counts[options.crowd.personClass] ?? 0;
      const personAnchors = heatmap
        ? defaultAnchors.filter((_, i) => tracks[i]!.state === 'confirmed' && tracks[i]!.className === options.crowd.personClass)
        : [];
      const result: FrameAnalytics = {
        counts,
        coverage: stuffCoverage(panoptic),
        unique: { ...uniqueTotals },
        lines: lines.map((l) => l.counter.totals()),
        zones: zones.map((z) => z.totals()),
        events: nameEvents(events, frame.capturedAtMs, frame.seq),
        crowd: heatmap ? { persons, heatmap: heatmap.update(personAnchors, width, height, ptsMs) } : { persons },
      };
      return withSection(packet, 'analytics', result, ctx.label, performance.now() - started);
    });
  },
});

function countConfirmed(tracks: readonly TrackedObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tracks) if (t.state === 'confirmed') counts[t.className] = (counts[t.className] ?? 0) + 1;
  return counts;
}

function stuffCoverage(panoptic: PanopticFrame | undefined): Record<string, number> {
  const coverage: Record<string, number> = {};
  if (!panoptic) return coverage;
  const pixels = panoptic.width * panoptic.height;
  for (const s of panoptic.segments) if (!s.isThing) coverage[s.className] = Math.round((s.area / pixels) * 10_000) / 10_000;
  return coverage;
}
