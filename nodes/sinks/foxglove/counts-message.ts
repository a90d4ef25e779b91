/**
 * `/<stream>/counts`: the numbers of a frame as a small JSON message (schema `panoptes.Counts`
 * in foxglove-channels.ts), shaped for Foxglove's Plot and Raw Messages panels: per-class maps
 * (`counts.car`) plus totals (`lines[:]{name=="north"}.inTotal`).
 *
 * With the analytics node, counts are its confirmed objects and the line and zone totals come
 * with them; without it, every thing segment of the frame is counted and there are no lines.
 * With a crowd-density node, `density` is its estimate with the band its expected error gives
 * (`density.count`, `density.low`, `density.high` plot as three lines), and each zone carries
 * the people the density map puts inside it, with the same band.
 */
import type { Time } from '@foxglove/schemas';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { ClassCounts } from '../../../pipeline/analytics-types.ts';
import { thingCounts } from '../../analytics/thing-counts.ts';
import { zoneDensities } from '../../analytics/zone-density.ts';
import { densityBand, type DensityBand } from '../frame-record.ts';
import { foxgloveTime } from './foxglove-time.ts';

export interface CountsMessage {
  readonly timestamp: Time;
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  readonly source: 'analytics' | 'segments';
  readonly counts: ClassCounts;
  readonly total: number;
  readonly unique?: ClassCounts;
  readonly lines: readonly LineCounts[];
  readonly zones: readonly ZoneCounts[];
  /** The crowd-density estimate (1 decimal), where a crowd-density node runs. */
  readonly density?: DensityCounts;
}

export interface DensityCounts extends DensityBand {
  readonly model: string;
  /** The expected error as a fraction of the count: `low`/`high` are count * (1 -/+ it). */
  readonly expectedError: number;
  /** The frame the estimate was computed on, and stream milliseconds since it. */
  readonly seq: number;
  readonly ageMs: number;
}

export interface LineCounts {
  readonly name: string;
  readonly in: ClassCounts;
  readonly out: ClassCounts;
  readonly inTotal: number;
  readonly outTotal: number;
}

export interface ZoneCounts {
  readonly name: string;
  readonly occupancy: ClassCounts;
  readonly entered: ClassCounts;
  readonly occupancyTotal: number;
  readonly enteredTotal: number;
  /** People the density map puts inside the zone, with the band (where a crowd-density node runs). */
  readonly density?: DensityBand;
}

export function buildCountsMessage(packet: FramePacket): CountsMessage {
  const { frame, analytics, density } = packet;
  const head = { timestamp: foxgloveTime(frame.capturedAtMs), stream: frame.stream, seq: frame.seq, ptsMs: frame.ptsMs };
  const densityPart = density
    ? {
        density: {
          model: density.model,
          ...densityBand(density),
          expectedError: density.expectedError,
          seq: density.seq,
          ageMs: density.ageMs,
        },
      }
    : {};
  if (!analytics) {
    const counts = thingCounts(packet.panoptic?.segments ?? []);
    return { ...head, source: 'segments', counts, total: sum(counts), lines: [], zones: [], ...densityPart };
  }
  const inZones = density && analytics.zones.length ? zoneDensities(density, analytics.zones) : undefined;
  return {
    ...head,
    source: 'analytics',
    counts: analytics.counts,
    total: sum(analytics.counts),
    unique: analytics.unique,
    lines: analytics.lines.map((line) => ({ name: line.name, in: line.in, out: line.out, inTotal: sum(line.in), outTotal: sum(line.out) })),
    zones: analytics.zones.map((zone, i) => ({
      name: zone.name,
      occupancy: zone.occupancy,
      entered: zone.entered,
      occupancyTotal: sum(zone.occupancy),
      enteredTotal: sum(zone.entered),
      ...(inZones ? { density: densityBand(inZones[i]!) } : {}),
    })),
    ...densityPart,
  };
}

export function encodeCountsMessage(packet: FramePacket): Buffer {
  return Buffer.from(JSON.stringify(buildCountsMessage(packet)), 'utf8');
}

const sum = (counts: ClassCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
