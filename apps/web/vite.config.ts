import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  // Unit tests only: e2e/*.spec.ts belong to Playwright.
  test: { include: ['src/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 },
});
