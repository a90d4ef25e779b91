/**
 * What the analytics report, as plain data: line crossings and zone entries and exits, counts
 * per class, and each line's and zone's totals. The packet carries them (frame.ts, which
 * re-exports them) and the viewer protocol sends them as they are; nothing here needs Node, so
 * the dashboard page's type check (viewer/tsconfig.json) takes this file through the protocol.
 */

/** A track crossed a counting line (counted once per object, line and direction). */
export interface LineEvent {
  /**
   * Names the event everywhere it goes, unique across streams and runs: the wall-clock time its
   * frame was captured, its number, the kind and the track (`2024-05-01T12-30-05.120Z-f812-line-17`), unique within its stream. The clips
   * sink names its snapshot `<stream>/<id>.jpg` and the clip it starts `<stream>/<id>.mkv`.
   */
  readonly id: string;
  readonly type: 'line';
  readonly stream: string;
  readonly line: string;
  readonly trackId: number;
  readonly className: string;
  readonly direction: 'in' | 'out';
  readonly ptsMs: number;
}

/** A track entered or left a zone; `dwellMs` is the time it spent inside (0 on enter). */
export interface ZoneEvent {
  /** As a line event's `id`. */
  readonly id: string;
  readonly type: 'zone';
  readonly stream: string;
  readonly zone: string;
  readonly event: 'enter' | 'exit';
  readonly trackId: number;
  readonly className: string;
  readonly dwellMs: number;
  readonly ptsMs: number;
}

export type AnalyticsEvent = LineEvent | ZoneEvent;

/** Counts per class name. */
export type ClassCounts = Readonly<Record<string, number>>;

export interface LineTotals {
  readonly name: string;
  /** The line in normalized coordinates (0..1), for drawing. */
  readonly points: readonly (readonly [number, number])[];
  readonly in: ClassCounts;
  readonly out: ClassCounts;
}

export interface ZoneTotals {
  readonly name: string;
  readonly polygon: readonly (readonly [number, number])[];
  /** Confirmed objects inside now, per class. */
  readonly occupancy: ClassCounts;
  /** Objects that have entered since the start, per class. */
  readonly entered: ClassCounts;
}
