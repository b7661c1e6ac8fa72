import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startSandbox } from './support/sandbox';

/** One sandbox for the suite; the returned function is the teardown (SIGINT, then the temp dir goes). */
export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(join(REPO, 'apps/web/build/index.js'))) {
    throw new Error('The console is not built: run `pnpm --filter @alphaswarm/web build` first.');
  }
  const sandbox = await startSandbox();
  process.env.E2E_SANDBOX = sandbox.manifestPath;
  process.env.E2E_BASE_URL = sandbox.manifest.console_url;
  return () => sandbox.stop();
}
