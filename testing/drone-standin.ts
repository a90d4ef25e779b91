/**
 * A STAND-IN for a drone clip (used by the accuracy bench and test/motion/drone-standin.test.ts): the data directory has no video of a drone over a highway, so
 * this one is drawn with ffmpeg, with every car's path known. It is not a real drone video;
 * it stands in for one where the real thing cannot be had here, and says what a real one would
 * look like to the motion node: 1920x1080 at 25 fps, looking straight down at an eight-lane
 * highway (textured asphalt, lane markings), 40 cars of 9-15 px driving through in both
 * directions at 90-150 px/s, on a camera that drifts as a hovering drone does (up to ~35 px/s)
 * with sensor noise on every frame.
 *
 * Because every car's path is an expression of time, the truth is exact: which cars are wholly
 * in view in any frame, and when each crosses a vertical line of the picture.
 */
import { execFileSync } from 'node:child_process';
import { boxIou, type Box } from '../lib/geometry/box.ts';
import { ffmpegPath } from '../servers/ffmpeg-binary.ts';

export const STANDIN_WIDTH = 1920;
export const STANDIN_HEIGHT = 1080;
export const STANDIN_FPS = 25;
/**
 * The first frame scored: the motion node judges a pixel after watching it 2 s (its warmUp in
 * configs/aerial-cars.yaml) and the tracker confirms a car after 3 frames.
 */
export const STANDIN_SETTLED_FRAME = Math.round(2.4 * STANDIN_FPS);
/** How long a clip the test and the bench draw. */
export const STANDIN_SECONDS = 7;

/** The ground the camera looks at: bigger than the picture, so the camera can drift over it. */
const GROUND_WIDTH = 2080;
const GROUND_HEIGHT = 1200;
/** Cars leave at one end and come back at the other, out of the picture either way. */
const WRAP = GROUND_WIDTH + 40;

export interface StandinCar {
  readonly lane: number;
  /** Top edge on the ground. */
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Left edge on the ground at t = 0 (before wrapping). */
  readonly x0: number;
  /** Pixels per second; negative drives left. */
  readonly speed: number;
  readonly color: string;
}

const COLORS = ['0xF0F0F0', '0x202020', '0xB0B0B8', '0xA02020', '0x2040A0', '0xD0D0C0', '0x303848', '0xC8B040'];
const SIZES: readonly (readonly [number, number])[] = [
  [15, 7],
  [13, 6],
  [12, 6],
  [14, 7],
  [11, 6],
  [9, 5],
];

/** Eight lanes, four each way, five cars per lane, spaced so that no two ever touch. */
export function standinCars(): StandinCar[] {
  const cars: StandinCar[] = [];
  for (let lane = 0; lane < 8; lane++) {
    const eastbound = lane < 4;
    const y = eastbound ? 430 + lane * 32 : 610 + (lane - 4) * 32;
    const speed = (90 + ((lane * 37) % 61)) * (eastbound ? 1 : -1);
    for (let k = 0; k < 5; k++) {
      const [width, height] = SIZES[(lane + k) % SIZES.length]!;
      cars.push({ lane, y: y + ((k * 3) % 5), width, height, x0: k * (WRAP / 5) + lane * 53, speed, color: COLORS[(lane * 5 + k) % COLORS.length]! });
    }
  }
  return cars;
}

/** Where the camera's picture starts on the ground at time t: a slow drift, as a hovering drone. */
export function cameraOffset(t: number): { x: number; y: number } {
  return { x: 80 + 70 * Math.sin((2 * Math.PI * t) / 13), y: 60 + 40 * Math.sin((2 * Math.PI * t) / 9) };
}

function groundLeft(car: StandinCar, t: number): number {
  const travelled = (((car.x0 + Math.abs(car.speed) * t) % WRAP) + WRAP) % WRAP;
  return car.speed >= 0 ? travelled - 20 : GROUND_WIDTH + 20 - travelled - car.width;
}

/** A car's box in the picture at time t, [x1, y1, x2, y2]. */
export function carInPicture(car: StandinCar, t: number): [number, number, number, number] {
  const camera = cameraOffset(t);
  const x = Math.round(groundLeft(car, t)) - Math.round(camera.x);
  const y = car.y - Math.round(camera.y);
  return [x, y, x + car.width, y + car.height];
}

/**
 * Crossings of the vertical line x = `lineX` (picture pixels) by the cars' centres between frames
 * `from` and `to`: rightward and leftward.
 */
export function lineCrossings(lineX: number, from: number, to: number): { right: number; left: number } {
  let right = 0;
  let left = 0;
  for (const car of standinCars()) {
    for (let n = from + 1; n <= to; n++) {
      const centre = (box: number[]) => (box[0]! + box[2]!) / 2;
      const before = centre(carInPicture(car, (n - 1) / STANDIN_FPS)) - lineX;
      const after = centre(carInPicture(car, n / STANDIN_FPS)) - lineX;
      // A wrap jumps across the whole ground, outside the picture: not a crossing.
      if (Math.abs(after - before) > 100) continue;
      if (before < 0 && after >= 0) right++;
      if (before >= 0 && after < 0) left++;
    }
  }
  return { right, left };
}

/** The ffmpeg filter graph that draws the clip (see {@link writeDroneStandin}). */
function filterGraph(seconds: number): string {
  const ground = [
    // Asphalt: mid grey with a fixed grain (the noise is drawn once, then looped).
    `color=c=0x585858:s=${GROUND_WIDTH}x${GROUND_HEIGHT}:d=1,noise=alls=14,format=yuv420p`,
    // The carriageways' edges and the dashed lane lines; grass beside the road.
    `drawbox=x=0:y=0:w=${GROUND_WIDTH}:h=400:color=0x3C5A30:t=fill`,
    `drawbox=x=0:y=770:w=${GROUND_WIDTH}:h=${GROUND_HEIGHT - 770}:color=0x3C5A30:t=fill`,
    `drawbox=x=0:y=415:w=${GROUND_WIDTH}:h=2:color=0xE0E0E0:t=fill`,
    `drawbox=x=0:y=585:w=${GROUND_WIDTH}:h=10:color=0x707070:t=fill`,
    `drawbox=x=0:y=755:w=${GROUND_WIDTH}:h=2:color=0xE0E0E0:t=fill`,
    ...[460, 492, 524, 640, 672, 704].flatMap((y) =>
      Array.from({ length: Math.ceil(GROUND_WIDTH / 60) }, (_, i) => `drawbox=x=${i * 60}:y=${y}:w=24:h=2:color=0xD8D8D8:t=fill`),
    ),
  ].join(',');
  const cars = standinCars();
  const parts = [`${ground},loop=loop=-1:size=1:start=0,fps=${STANDIN_FPS},trim=duration=${seconds}[g0]`];
  cars.forEach((car, i) => {
    parts.push(`color=c=${car.color}:s=${car.width}x${car.height}:r=${STANDIN_FPS}[c${i}]`);
    const travelled = `mod(${car.x0}+${Math.abs(car.speed)}*t,${WRAP})`;
    const x = car.speed >= 0 ? `${travelled}-20` : `${GROUND_WIDTH + 20 - car.width}-${travelled}`;
    parts.push(`[g${i}][c${i}]overlay=x='round(${x})':y=${car.y}:shortest=1[g${i + 1}]`);
  });
  const camera = `crop=${STANDIN_WIDTH}:${STANDIN_HEIGHT}:x='round(80+70*sin(2*PI*t/13))':y='round(60+40*sin(2*PI*t/9))'`;
  parts.push(`[g${cars.length}]${camera},noise=alls=6:allf=t,format=yuv420p[out]`);
  return parts.join(';');
}

/**
 * Draws `seconds` of the stand-in drone clip into `file` (H.264 mp4, high quality: at the usual
 * CRF 23 the encoder turns this clip's per-pixel noise into blotches that change from frame to
 * frame, and motion finds hundreds of them).
 */
export function writeDroneStandin(file: string, seconds: number): void {
  execFileSync(
    ffmpegPath().path,
    ['-v', 'error', '-y', '-filter_complex', filterGraph(seconds), '-map', '[out]', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', file],
    { maxBuffer: 1 << 20 },
  );
}

/** The cars' boxes wholly in the picture at frame `n`, [x1, y1, x2, y2]. */
export function carBoxesInView(n: number): [number, number, number, number][] {
  return standinCars()
    .map((car) => carInPicture(car, n / STANDIN_FPS))
    .filter(([x1, y1, x2, y2]) => x1 >= 0 && y1 >= 0 && x2 <= STANDIN_WIDTH && y2 <= STANDIN_HEIGHT);
}

/** Cars of a few pixels: a third of overlap is the same car (a pixel off is 15% of one). */
const SAME_CAR_IOU = 0.3;

/**
 * What was found at frame `n` against the cars wholly in view then: each box matched to the
 * first unmatched car it overlaps by {@link SAME_CAR_IOU}; `wrong` found no car, `missed` were
 * not found.
 */
export function scoreStandinFrame(found: readonly Box[], n: number): { found: number; wrong: number; missed: number } {
  const truth = carBoxesInView(n);
  const matched = new Set<number>();
  let wrong = 0;
  for (const box of found) {
    const car = truth.findIndex((t, i) => !matched.has(i) && boxIou(box, t) >= SAME_CAR_IOU);
    if (car >= 0) matched.add(car);
    else wrong++;
  }
  return { found: matched.size, wrong, missed: truth.length - matched.size };
}
