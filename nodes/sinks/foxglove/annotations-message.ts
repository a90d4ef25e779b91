/**
 * `/<stream>/annotations`: what the overlay draws, as a `foxglove.ImageAnnotations` that
 * Foxglove's Image panel draws over `/<stream>/image` (it pairs the two by timestamp):
 *
 * - each thing's outline as a filled `LINE_LOOP` polygon, per piece (segment-outline.ts);
 * - its label as text, `car #12 0.87` (`car ? 0.87` while its track is tentative), like the overlay;
 * - each track's trail (kept by the tracker, the same the overlay draws) as a `LINE_STRIP`;
 * - counting lines as `LINE_STRIP` and zones as `LINE_LOOP`, each labelled with its totals.
 *
 * Coordinates are pixels of the overlay JPEG (scaled from the panoptic frame when they differ).
 * Colours are the panoptic class set's palette, as the overlay's.
 */
import { PointsAnnotationType, type Color, type ImageAnnotations, type Point2, type PointsAnnotation, type TextAnnotation, type Time } from '@foxglove/schemas';
import type { FrameAnalytics, FramePacket, PanopticFrame, TrackedObject } from '../../../pipeline/frame.ts';
import { classColor, displayId, instanceShade, type Rgb } from '../../render/segment-colors.ts';
import { foxgloveTime } from './foxglove-time.ts';
import { segmentOutlines, type Point } from './segment-outline.ts';
import { thingLabel } from '../../render/annotate.ts';

export interface AnnotationInputs {
  readonly packet: FramePacket;
  /** At most this many of the last positions of each track's trail; 0 for no trails. */
  readonly trailPoints: number;
}

const FILL_ALPHA = 0.35;
const LABEL_FONT_PX = 14;
const OUTLINE_PX = 2;
const TRAIL_PX = 2;
const LINE_PX = 3;
const ZONE_PX = 2;
const WHITE: Color = { r: 0.95, g: 0.96, b: 0.97, a: 1 };
const TRANSPARENT: Color = { r: 0, g: 0, b: 0, a: 0 };
/** The overlay's colours for counting lines (amber) and zones (cyan). */
const LINE_COLOR: Rgb = [255, 210, 63];
const ZONE_COLOR: Rgb = [63, 208, 255];

/** The frame's annotations; empty lists when the packet has nothing to draw. */
export function buildImageAnnotations({ packet, trailPoints }: AnnotationInputs): ImageAnnotations {
  const timestamp = foxgloveTime(packet.frame.capturedAtMs);
  const { panoptic, tracks, analytics } = packet;
  const palette = panoptic?.classes.palette;
  const image = imageSize(packet);
  // Boxes and masks are in panoptic pixels; Foxglove draws on the JPEG, which may be scaled.
  const scaleX = panoptic ? image.width / panoptic.width : 1;
  const scaleY = panoptic ? image.height / panoptic.height : 1;
  const scale = ([x, y]: Point): Point2 => ({ x: x * scaleX, y: y * scaleY });

  const points: PointsAnnotation[] = [];
  const texts: TextAnnotation[] = [];
  if (panoptic) addThings(panoptic, palette, timestamp, scale, points, texts);
  if (tracks && trailPoints > 0) addTrails(tracks, trailPoints, palette, timestamp, scale, points);
  if (analytics) addLinesAndZones(analytics, image, timestamp, points, texts);
  return { timestamp, circles: [], points, texts };
}

export function encodeAnnotationsMessage(inputs: AnnotationInputs): Buffer {
  return Buffer.from(JSON.stringify(buildImageAnnotations(inputs)), 'utf8');
}

/** The size of the image the annotations go over: the overlay's, else the frame's. */
function imageSize(packet: FramePacket): { width: number; height: number } {
  return packet.overlay ?? packet.panoptic ?? packet.frame;
}

function addThings(
  panoptic: PanopticFrame,
  palette: readonly Rgb[] | undefined,
  timestamp: Time,
  scale: (point: Point) => Point2,
  points: PointsAnnotation[],
  texts: TextAnnotation[],
): void {
  for (const segment of panoptic.segments) {
    if (!segment.isThing) continue;
    const shade = instanceShade(classColor(segment.classId, palette), displayId(segment));
    for (const polygon of segmentOutlines(panoptic.width, segment)) {
      points.push({
        timestamp,
        type: PointsAnnotationType.LINE_LOOP,
        points: polygon.map(scale),
        outline_color: color(shade),
        outline_colors: [],
        fill_color: color(shade, FILL_ALPHA),
        thickness: OUTLINE_PX,
      });
    }
    const corner = scale([segment.bbox[0], segment.bbox[1]]); // the box's top-left corner
    texts.push({
      timestamp,
      // The position is the text's bottom-left corner: above the box, or inside it at the top edge.
      position: { x: corner.x, y: Math.max(corner.y - 2, LABEL_FONT_PX) },
      text: thingLabel(segment),
      font_size: LABEL_FONT_PX,
      text_color: WHITE,
      background_color: color(shade, 0.8),
    });
  }
}

function addTrails(
  tracks: readonly TrackedObject[],
  trailPoints: number,
  palette: readonly Rgb[] | undefined,
  timestamp: Time,
  scale: (point: Point) => Point2,
  points: PointsAnnotation[],
): void {
  for (const track of tracks) {
    const trail = track.trail && track.trail.length > trailPoints ? track.trail.slice(-trailPoints) : track.trail;
    if (!trail || trail.length < 2) continue;
    points.push({
      timestamp,
      type: PointsAnnotationType.LINE_STRIP,
      points: trail.map(scale),
      outline_color: color(instanceShade(classColor(track.classId, palette), track.trackId)),
      outline_colors: [],
      fill_color: TRANSPARENT,
      thickness: TRAIL_PX,
    });
  }
}

function addLinesAndZones(
  analytics: FrameAnalytics,
  image: { width: number; height: number },
  timestamp: Time,
  points: PointsAnnotation[],
  texts: TextAnnotation[],
): void {
  // Lines and zones are kept in normalized coordinates (0..1).
  const toPixels = (polyline: readonly (readonly [number, number])[]): Point2[] =>
    polyline.map(([x, y]) => ({ x: x * image.width, y: y * image.height }));
  const shape = (type: PointsAnnotationType, polyline: Point2[], rgb: Rgb, fillAlpha: number, thickness: number): PointsAnnotation => ({
    timestamp,
    type,
    points: polyline,
    outline_color: color(rgb),
    outline_colors: [],
    fill_color: fillAlpha > 0 ? color(rgb, fillAlpha) : TRANSPARENT,
    thickness,
  });
  const label = (at: Point2 | undefined, text: string, rgb: Rgb) => {
    if (!at) return;
    texts.push({
      timestamp,
      position: { x: at.x, y: Math.max(at.y - 4, LABEL_FONT_PX) },
      text,
      font_size: LABEL_FONT_PX,
      text_color: color(rgb),
      background_color: color([0, 0, 0], 0.6),
    });
  };
  for (const zone of analytics.zones) {
    const polygon = toPixels(zone.polygon);
    points.push(shape(PointsAnnotationType.LINE_LOOP, polygon, ZONE_COLOR, 0.08, ZONE_PX));
    label(polygon[0], `${zone.name}: ${sum(zone.occupancy)} in, ${sum(zone.entered)} entered`, ZONE_COLOR);
  }
  for (const line of analytics.lines) {
    const polyline = toPixels(line.points);
    points.push(shape(PointsAnnotationType.LINE_STRIP, polyline, LINE_COLOR, 0, LINE_PX));
    label(polyline[0], `${line.name}: in ${sum(line.in)} out ${sum(line.out)}`, LINE_COLOR);
  }
}

function color([r, g, b]: Rgb, a = 1): Color {
  return { r: r / 255, g: g / 255, b: b / 255, a };
}

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);
