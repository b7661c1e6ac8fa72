import { defineConfig } from 'vitest/config';

export default defineConfig({
  // maxConcurrency: the fault suite runs its cases side by side, each mostly waiting on a deadline.
  test: { include: ['src/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000, maxConcurrency: 32 },
});
