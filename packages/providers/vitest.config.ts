import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Files wait on loopback fakes, SQLite and Python more than they compute: two at a time even
    // on two cores; and one module graph per worker, since importing it again for every file cost
    // more than most files' tests.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The fault suite runs its cases side by side, each mostly waiting on a deadline.
    maxConcurrency: 32,
  },
});
