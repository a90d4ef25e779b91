/** The exclusive inference schedule: one run at a time, later stages first, then first come. */
import { describe, expect, it } from 'vitest';
import { ExclusiveRunner } from '../../nodes/inference/exclusive-runner.ts';

/** A run that finishes when the test says so. */
function controllable() {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

describe('ExclusiveRunner', () => {
  it('runs one at a time, the highest priority waiting first, then in arrival order', async () => {
    const runner = new ExclusiveRunner();
    const started: string[] = [];
    const first = controllable();
    const all = [
      runner.run(0, () => (started.push('semantic#1'), first.work())),
      runner.run(0, async () => void started.push('semantic#2')),
      runner.run(1, async () => void started.push('instance#1')),
      runner.run(0, async () => void started.push('semantic#3')),
      runner.run(1, async () => void started.push('instance#2')),
    ];
    await Promise.resolve();
    expect(started).toEqual(['semantic#1']);
    first.finish();
    await Promise.all(all);
    expect(started).toEqual(['semantic#1', 'instance#1', 'instance#2', 'semantic#2', 'semantic#3']);
  });

  it('passes results and errors through, and goes on after an error', async () => {
    const runner = new ExclusiveRunner();
    await expect(runner.run(0, () => Promise.reject(new Error('model failed')))).rejects.toThrow('model failed');
    await expect(runner.run(0, async () => 42)).resolves.toBe(42);
  });
});
