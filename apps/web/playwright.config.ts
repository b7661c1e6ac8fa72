import { CHROMIUM_LAUNCH } from '@alphaswarm/server/sandbox-process';
import { defineConfig } from '@playwright/test';
import { STORAGE_STATE } from './e2e/support/paths';

/**
 * Against the built console: global-setup starts the sandbox (fakes + API + `node build`) and
 * sets E2E_BASE_URL, which these workers read when they load this file.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
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
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
  },
  projects: [
    { name: 'sign-in', testMatch: /sign-in\.setup\.ts/ },
    {
      name: 'console',
      testMatch: /\.spec\.ts/,
      testIgnore: /step-up\.spec\.ts/,
      dependencies: ['sign-in'],
      use: { storageState: STORAGE_STATE },
    },
    // Its own sandbox with a short MFA max age; runs after the rest so its waits come last.
    { name: 'step-up', testMatch: /step-up\.spec\.ts/, dependencies: ['console'] },
  ],
});
