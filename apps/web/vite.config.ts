import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const DB_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/db/src');
const LIB_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), 'src/lib');

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

// Under vitest the console's session store gets a database and a key of its own for the run, never
// ~/.alphaswarm. Set here because SvelteKit bakes `$env/dynamic/private` from the environment as
// this file loads; the workers inherit it.
if (process.env.VITEST) {
  process.env.ALPHASWARM_ADMIN_DB_PATH = join(mkdtempSync(join(tmpdir(), 'alphaswarm-web-test-')), 'admin.db');
  process.env.ALPHASWARM_CONSOLE_SESSION_KEY = `${randomBytes(32).toString('base64url')}=`;
}

export default defineConfig(({ isSsrBuild }) => ({
  plugins: [dbSourceUrls(), sveltekit()],
  // The browser's chunks, grouped: the libraries two or more pages run (Svelte, SvelteKit's client)
  // in one, the console's own modules two or more pages share in another; the passkey library stays
  // a chunk of its own, loaded on the first ceremony only. The org page loads 8 files instead of 20
  // at the same size; its time to interactive moved within noise (bench/web: 2.04× vs 2.00×). One
  // bundle for everything (`kit.output.bundleStrategy: 'single'`) measured the same at 70 KiB gzip.
  build: isSsrBuild
    ? {}
    : {
        rolldownOptions: {
          output: {
            codeSplitting: {
              groups: [
                {
                  name: 'runtime',
                  test: (id: string) => id.includes('/node_modules/') && !id.includes('@simplewebauthn'),
                  minShareCount: 2,
                  priority: 2,
                },
                { name: 'shared', test: (id: string) => id.startsWith(LIB_SOURCE), minShareCount: 2, priority: 1 },
              ],
            },
          },
        },
      },
  // Unit tests only: e2e/*.spec.ts belong to Playwright.
  test: {
    include: ['src/**/*.test.ts'],
    // One module graph per worker: importing SvelteKit's server modules again for every file was
    // two thirds of this suite's CPU (35 s -> 11 s user + system without it).
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
}));
