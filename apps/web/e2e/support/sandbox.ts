import { readFileSync } from 'node:fs';
import type { RunningSandbox } from '@alphaswarm/server/sandbox-process';

export {
  CHROMIUM_LAUNCH,
  REPO,
  type RunningSandbox,
  startSandboxProcess as startSandbox,
} from '@alphaswarm/server/sandbox-process';

export type Manifest = RunningSandbox['manifest'];

/** The manifest of the sandbox global-setup started for this run. */
export function readManifest(): Manifest {
  const path = process.env.E2E_SANDBOX;
  if (!path) throw new Error('E2E_SANDBOX is not set: run the suite with `pnpm e2e` (global-setup starts the sandbox)');
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}
