/**
 * A frame's segment map in the COCO panoptic format: which id each segment gets in a COCO
 * panoptic PNG, and the PNG's pixels (lib/formats/coco-panoptic-ids.ts says how a pixel holds an id).
 *
 * Segment ids are chosen so that one object keeps one id from frame to frame (what video
 * metrics need) and ids never collide within a frame:
 * - a thing with a track: its `trackId`, the id events and MOT files show (1 .. 2^23 − 1);
 * - a thing without a track: 2^23 + its segment id (changes from frame to frame);
 * - stuff: 2^24 − 256 + its class index, one id per stuff class in every frame.
 * A segment whose preferred id is taken or out of range falls back to the next free id from 2^23.
 *
 * Several sinks write this encoding (panoptic-png, mcap); {@link cocoSegmentMap} encodes a frame
 * once however many of them run, since pixel work is done once per frame, not once per consumer.
 */
import { panopticRgbaWord } from '../../lib/formats/coco-panoptic-ids.ts';
import type { PanopticFrame, Segment } from '../../pipeline/frame.ts';

const UNTRACKED_BASE = 2 ** 23;
const STUFF_BASE = 2 ** 24 - 256;

/** The id a segment asks for, or undefined when its number does not fit its range. */
function preferredId(segment: Segment): number | undefined {
  const fits = (n: number, below: number) => Number.isInteger(n) && n >= 0 && n < below;
  if (!segment.isThing) return fits(segment.classId, 256) ? STUFF_BASE + segment.classId : undefined;
  if (segment.trackId !== undefined) return segment.trackId > 0 && fits(segment.trackId, UNTRACKED_BASE) ? segment.trackId : undefined;
  return fits(segment.id, STUFF_BASE - UNTRACKED_BASE) ? UNTRACKED_BASE + segment.id : undefined;
}

/** The PNG id of each segment, in `segments` order, unique within the frame (see the rules above). */
export function cocoSegmentIds(segments: readonly Segment[]): number[] {
  const used = new Set<number>();
  let nextFree = UNTRACKED_BASE;
  return segments.map((segment) => {
    let id = preferredId(segment);
    if (id === undefined || used.has(id)) {
      while (used.has(nextFree)) nextFree++;
      id = nextFree;
    }
    used.add(id);
    return id;
  });
}

/**
 * Fills `rgba` (one word per pixel: bytes R, G, B, 255) with the COCO encoding of `panoptic`'s
 * segment map and returns each segment's pixel count, in `segments` order. Pixels of ids the
 * segment list lacks become void. One 32-bit store per pixel rather than three byte stores:
 * sharp drops the alpha channel on its own threads.
 */
export function encodeSegmentMap(panoptic: PanopticFrame, ids: readonly number[], rgba: Uint32Array): Float64Array {
  // Slot 0 is void; segment k is slot k + 1. The Map lookup, the word and the area update
  // happen only where the segment id changes along the rows.
  const slotOf = new Map<number, number>(panoptic.segments.map((s, k) => [s.id, k + 1]));
  const slotWords = Uint32Array.from([0, ...ids], panopticRgbaWord);
  const areas = new Float64Array(slotWords.length);
  const map = panoptic.segmentMap;
  let lastSegment = -1;
  let slot = 0;
  let word = slotWords[0];
  let runStart = 0;
  for (let p = 0; p < map.length; p++) {
    const segment = map[p];
    if (segment !== lastSegment) {
      areas[slot] += p - runStart;
      runStart = p;
      lastSegment = segment;
      slot = segment === 0 ? 0 : (slotOf.get(segment) ?? 0);
      word = slotWords[slot];
    }
    rgba[p] = word;
  }
  areas[slot] += map.length - runStart;
  return areas.subarray(1);
}

/**
 * A typed array without its index writes and in-place methods: an encoding is shared by every
 * sink of its frame, so one sink writing into it would change what the others write. Advisory:
 * `buffer` and `subarray` still give writable views (sharp needs the bytes).
 */
export type ReadonlyTypedArray<T extends Uint32Array | Float64Array> = Omit<T, number | 'set' | 'fill' | 'copyWithin' | 'reverse' | 'sort'> & {
  readonly [index: number]: number;
};

/** One frame's COCO panoptic encoding. */
export interface CocoSegmentMap {
  /** Each segment's PNG id, in `segments` order. */
  readonly ids: readonly number[];
  /**
   * The PNG's pixels, one word per pixel (bytes R, G, B, 255). Its own allocation, not a pooled
   * buffer: sinks encode it after the packet's buffers have gone back to their pools.
   */
  readonly rgba: ReadonlyTypedArray<Uint32Array>;
  /** Each segment's pixel count, in `segments` order. */
  readonly areas: ReadonlyTypedArray<Float64Array>;
}

/**
 * Keyed on the PanopticFrame object, never on its segment map: the nodes that build panoptic
 * frames make a new object for each frame (panoptic-fusion, motion-segmentation's things-only
 * frame, the tracker's copy with track ids), while the segment map is a pooled buffer that a
 * later frame refills. Weak, so an entry goes when the last sink lets go of its frame.
 */
const encodings = new WeakMap<PanopticFrame, CocoSegmentMap>();

/**
 * `panoptic`'s COCO encoding: computed when a sink first asks for the frame, the same object for
 * every later ask. The frame must not change once a sink has seen it (nodes that rewrite a
 * section make a new one, as the tracker does).
 */
export function cocoSegmentMap(panoptic: PanopticFrame): CocoSegmentMap {
  let encoding = encodings.get(panoptic);
  if (!encoding) {
    const ids = Object.freeze(cocoSegmentIds(panoptic.segments));
    const rgba = new Uint32Array(panoptic.width * panoptic.height);
    const areas = encodeSegmentMap(panoptic, ids, rgba);
    encoding = Object.freeze({ ids, rgba, areas });
    encodings.set(panoptic, encoding);
  }
  return encoding;
}
