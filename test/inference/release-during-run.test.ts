/**
 * Stopping a run while a model is busy: the session is released while its thread still runs a
 * long request (a sliced 640 frame takes seconds on a loaded CPU, longer than the release's
 * grace). The thread must finish that request before it is ended: terminating a worker while
 * onnxruntime runs on it aborts the whole process (`Napi::Error`), which is what a Ctrl-C during
 * the crowd config used to do. Real model, real onnxruntime thread.
 */
import { describe, expect, it } from 'vitest';
import { findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { openModelSession } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import type { SliceRegion } from '../../nodes/inference/slices.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';

describe('releasing a model session while it runs', () => {
  it('answers the run in progress, then ends the thread, without aborting the process', async () => {
    const entry = findModel(loadModelCatalog(), 'yolov8n-seg-640');
    const session = await openModelSession(entry, dataDir(), ['cpu'], createMemoryLogger());
    const frame: RgbImage = { width: 1280, height: 720, data: new Uint8Array(1280 * 720 * 3).fill(90) };
    // 24 runs at 640: several seconds even on an idle 2-core machine (~0.15 s each), well past
    // the 2 s grace a release gives a thread that has stopped answering.
    const regions: SliceRegion[] = Array.from({ length: 24 }, (_, i) => ({ x: (i % 4) * 160, y: 0, width: 640, height: 640 }));
    const running = session.runSlices(frame, regions);
    const events: string[] = [];
    const answered = running.then(
      (outputs) => {
        events.push('run answered');
        return outputs;
      },
      (err: unknown) => {
        events.push(`run failed: ${String(err)}`);
        throw err;
      },
    );
    await session.release();
    events.push('released');

    const outputs = await answered;
    expect(events).toEqual(['run answered', 'released']);
    expect(outputs.slices).toHaveLength(24);
    for (const slice of outputs.slices) expect(Object.keys(slice).sort()).toEqual([...entry.outputs].sort());
  }, 120_000);
});
