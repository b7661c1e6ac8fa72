import { CHROMIUM_LAUNCH } from '@alphaswarm/server/sandbox-process';
import { defineConfig } from '@playwright/test';

/**
 * Against the built console: global-setup starts the sandbox (fakes + compiled API + `node build`)
 * and sets E2E_BASE_URL, which these workers read when they load this file. Two workers share
 * that sandbox, one spec file each at a time (specs use orgs of their own), each signed in as an
 * admin of its own (support/helpers.ts); the step-up and store specs start sandboxes of their own.
 * A third worker took 62 -> 57 s on a fast machine of this kind but 175 -> 197 s on a slow one,
 * where the browser phase is CPU-bound: two.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  globalSetup: './e2e/global-setup.ts',
  workers: 2,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    browserName: 'chromium',
    launchOptions: CHROMIUM_LAUNCH,
    // A trace records every action's snapshots, passing or not (a fifth more browser time); CI keeps
    // only printed output, so it is on when asked for: E2E_TRACE=1.
    trace: process.env.E2E_TRACE ? 'retain-on-failure' : 'off',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
  },
  projects: [
    // Its own sandbox with a short MFA max age and waits for it: first, so they overlap the rest.
    { name: 'step-up', testMatch: /step-up\.spec\.ts/ },
    // Exports the whole store and dry-runs its import: on a sandbox of its own, beside the rest.
    { name: 'store', testMatch: /audit-store\.spec\.ts/ },
    { name: 'console', testMatch: /\.spec\.ts/, testIgnore: /(step-up|audit-store)\.spec\.ts/ },
  ],
});
