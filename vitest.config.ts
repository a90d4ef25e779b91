import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real models, real ffmpeg and a real browser: generous per-test limits, and files run
    // one at a time so two onnxruntime sessions do not fight over the machine's two cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
