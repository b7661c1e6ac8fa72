import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const DB_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/db/src');

/**
 * The session store bundles @alphaswarm/db, whose migrations are found next to its source through
 * `import.meta.url`; bundled, that would name the output chunk. In the build it names the source
 * file in the checkout instead (the console runs from the checkout, beside its node_modules).
 */
function dbSourceUrls(): Plugin {
  return {
    name: 'db-source-import-meta-url',
    apply: 'build',
    load(id) {
      if (!id.startsWith(DB_SOURCE) || !id.endsWith('.ts')) return null;
      const text = readFileSync(id, 'utf8');
      if (!text.includes('import.meta.url')) return null;
      return text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(id).href));
    },
  };
}

export default defineConfig({
  plugins: [dbSourceUrls(), sveltekit()],
  // Unit tests only: e2e/*.spec.ts belong to Playwright.
  test: {
    include: ['src/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
