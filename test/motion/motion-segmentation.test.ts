/**
 * The motion-segmentation node on a real clip, through the real ffmpeg source and its worker
 * thread: intel_car-detection.mp4 (768x432, 12.5 fps), a fixed camera looking straight down at
 * a car park lane, cars driving through one or two at a time.
 *
 * What a person sees: the cars counted by eye on every tenth frame, and how they were counted,
 * are in replay-data/intel_car-detection-counts.json.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, map, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { releasePacket, type CameraMotion } from '../../pipeline/frame.ts';
import { blobInstances, motionClassSet } from '../../nodes/motion/blob-instances.ts';
import { motionSegmentation } from '../../nodes/motion/motion-segmentation.ts';
import { ThingsPanoptic } from '../../nodes/motion/things-panoptic.ts';
import { builtinNodes } from '../../nodes/index.ts';
import { ffmpegSource, ffmpegSourceOptions } from '../../nodes/sources/ffmpeg-source.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { chainContext } from '../helpers/data-dir.ts';

/** Cars a person counted, by frame index (every tenth frame). */
const PERSON_COUNTS = (
  JSON.parse(readFileSync(new URL('../../replay-data/intel_car-detection-counts.json', import.meta.url), 'utf8')) as {
    counts: Readonly<Record<string, number>>;
  }
).counts;

describe('motion-segmentation on a real clip', () => {
  it('finds the cars driving through once the background has settled, as a person counts them', async () => {
    const ctx = chainContext({ label: 'motion-segmentation' });
    const source = await ffmpegSource.create(
      ffmpegSourceOptions.parse({ uri: 'replay/videos/intel_car-detection.mp4', realtime: false }),
      ctx,
    );
    const node = await motionSegmentation.create(motionSegmentation.options.parse({ className: 'car', minArea: 2000 }), ctx);
    // What the test reads of each frame; the packet goes back at once, as a sink's would (the
    // source has a dozen frame buffers and waits for them).
    const packets = await lastValueFrom(
      source.pipe(
        node,
        map((packet) => {
          const seen = {
            frame: packet.frame,
            instances: { count: packet.instances!.count },
            panoptic: { segments: packet.panoptic!.segments.map(({ className, area }) => ({ className, area })) },
            cameraMotion: packet.cameraMotion as CameraMotion,
          };
          releasePacket(packet);
          return seen;
        }),
        toArray(),
      ),
    );
    expect(packets.map((p) => p.frame.seq)).toEqual(packets.map((_, i) => i));
    expect(packets.length).toBeGreaterThanOrEqual(370);

    const rows = Object.entries(PERSON_COUNTS).map(([seq, person]) => {
      const packet = packets[Number(seq)]!;
      return { seq: Number(seq), person, motion: packet.instances.count, segments: packet.panoptic.segments.length };
    });
    const exact = rows.filter((r) => r.motion === r.person).length;
    console.log('intel_car-detection, person vs motion every 10th frame:', rows.map((r) => `${r.seq}:${r.person}/${r.motion}`).join(' '));
    console.log(`exact on ${exact} of ${rows.length} frames`);

    // Nothing during the warm-up and while the lane is empty at the start.
    expect(rows.filter((r) => r.seq <= 50).every((r) => r.motion === 0)).toBe(true);
    // Every car a person sees is found: the count is never below theirs...
    expect(rows.filter((r) => r.motion < r.person)).toEqual([]);
    // ...rarely above (a car's trail as the camera's exposure swings back), and never by two.
    expect(rows.filter((r) => r.motion > r.person + 1)).toEqual([]);
    expect(exact).toBeGreaterThanOrEqual(34);
    // Each blob is a thing segment of class car with its pixels.
    const busy = packets[200]!;
    expect(busy.panoptic.segments.map((s) => s.className)).toEqual(['car', 'car']);
    for (const s of busy.panoptic.segments) expect(s.area).toBeGreaterThan(10_000);
    // A fixed camera: the estimated camera motion stays under a pixel.
    const shifts = packets.slice(1).map((p) => Math.hypot(p.cameraMotion.affine[2], p.cameraMotion.affine[5]));
    expect(shifts.filter((s) => s < 1).length / shifts.length).toBeGreaterThan(0.97);
  }, 180_000);
});

describe('moving blobs beside a model', () => {
  const blob = (x: number) => ({
    box: [x, 10, x + 10, 20] as const,
    area: 100,
    mask: { x, y: 10, width: 10, height: 10, data: new Uint8Array(100).fill(1) },
  });
  const coco = { name: 'coco', names: ['person', 'car'], isThing: [true, true], isVoid: [false, false], palette: undefined };
  const model = {
    model: 'yolo',
    count: 1,
    boxes: Float32Array.from([0, 8, 14, 22]),
    scores: Float32Array.from([0.9]),
    classIds: Int32Array.from([1]),
    classes: coco,
    masks: [{ x: 0, y: 8, width: 14, height: 14, data: new Uint8Array(196).fill(1) }],
  };
  const options = { className: 'car', score: 0.8, modelOverlap: 0.5 };

  it('adds only the blobs the model did not find, as its own class of that name', () => {
    const merged = blobInstances([blob(2), blob(40)], model, motionClassSet('car'), options);
    expect(merged.count).toBe(2);
    expect([...merged.boxes.subarray(4, 8)]).toEqual([40, 10, 50, 20]);
    expect([...merged.classIds]).toEqual([1, 1]);
    expect(merged.classes).toBe(coco);
    expect(merged.masks).toHaveLength(2);
  });

  it('says which names fit when the class is not the model\'s', () => {
    expect(() => blobInstances([blob(2)], model, motionClassSet('vehicle'), { ...options, className: 'vehicle' })).toThrow(
      /className "vehicle" is not a class of yolo \(person, car\)/,
    );
  });

  it('alone, makes a panoptic frame of things over void, higher score first', () => {
    const alone = blobInstances([blob(2), blob(6)], undefined, motionClassSet('car'), options);
    const { panoptic } = new ThingsPanoptic().build(64, 32, alone);
    expect(panoptic.segments.map((s) => [s.className, s.area, s.bbox])).toEqual([
      ['car', 100, [2, 10, 12, 20]],
      ['car', 40, [12, 10, 16, 20]],
    ]);
    expect(panoptic.classMap[0]).toBe(255);
  });
});

describe('configs with motion', () => {
  it('motion alone feeds tracker, analytics and overlay; beside models it comes before fusion', () => {
    const labels = (file: string) =>
      loadPipeline(file, builtinNodes()).spec.pipeline.map((step) => ('parallel' in step ? step.label : step.node.type));
    expect(labels('configs/motion-cars.yaml')).toEqual(['motion-segmentation', 'tracker', 'analytics', 'overlay']);
    expect(labels('configs/aerial-cars.yaml')).toEqual(['motion-segmentation', 'tracker', 'analytics', 'overlay']);
    expect(labels('configs/carpark-cars.yaml')).toEqual(['models', 'motion-segmentation', 'panoptic-fusion', 'tracker', 'analytics', 'overlay']);
  });
});
