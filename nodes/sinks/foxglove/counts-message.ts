/**
 * `/<stream>/counts`: the numbers of a frame as a small JSON message (schema `panoptes.Counts`
 * in foxglove-channels.ts), shaped for Foxglove's Plot and Raw Messages panels: per-class maps
 * (`counts.car`) plus totals (`lines[:]{name=="north"}.inTotal`).
 *
 * With the analytics node, counts are its confirmed objects and the line and zone totals come
 * with them; without it, every thing segment of the frame is counted and there are no lines.
 */
import type { Time } from '@foxglove/schemas';
import type { ClassCounts, FramePacket } from '../../../pipeline/frame.ts';
import { thingCounts } from '../../analytics/thing-counts.ts';
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
}

export function buildCountsMessage(packet: FramePacket): CountsMessage {
  const { frame, analytics } = packet;
  const head = { timestamp: foxgloveTime(frame.capturedAtMs), stream: frame.stream, seq: frame.seq, ptsMs: frame.ptsMs };
  if (!analytics) {
    const counts = thingCounts(packet.panoptic?.segments ?? []);
    return { ...head, source: 'segments', counts, total: sum(counts), lines: [], zones: [] };
  }
  return {
    ...head,
    source: 'analytics',
    counts: analytics.counts,
    total: sum(analytics.counts),
    unique: analytics.unique,
    lines: analytics.lines.map((line) => ({ name: line.name, in: line.in, out: line.out, inTotal: sum(line.in), outTotal: sum(line.out) })),
    zones: analytics.zones.map((zone) => ({
      name: zone.name,
      occupancy: zone.occupancy,
      entered: zone.entered,
      occupancyTotal: sum(zone.occupancy),
      enteredTotal: sum(zone.entered),
    })),
  };
}

export function encodeCountsMessage(packet: FramePacket): Buffer {
  return Buffer.from(JSON.stringify(buildCountsMessage(packet)), 'utf8');
}

const sum = (counts: ClassCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
