import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer, staleSource } from '@alphaswarm/server/build';
import type { FullConfig } from '@playwright/test';
import { REPO, startSandbox } from './support/sandbox';

/**
 * One sandbox for the suite, from the compiled server (rebuilt first when a source is newer: the
 * tests must run this checkout's code); the returned function is the teardown (SIGINT, then the
 * temp dir goes).
 */
export default async function globalSetup(config: FullConfig): Promise<() => Promise<void>> {
  if (!existsSync(join(REPO, 'apps/web/build/index.js'))) {
    throw new Error('The console is not built: run `pnpm --filter @alphaswarm/web build` first.');
  }
  if (staleSource()) await buildServer();
  // One admin for the sign-in spec, one per parallel worker.
  const sandbox = await startSandbox({ admins: config.workers + 1 });
  process.env.E2E_SANDBOX = sandbox.manifestPath;
  process.env.E2E_BASE_URL = sandbox.manifest.console_url;
  return () => sandbox.stop();
}
