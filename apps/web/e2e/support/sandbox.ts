import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type AuditRow, listAudit, openStore } from '@alphaswarm/db';
import type { RunningSandbox } from '@alphaswarm/server/sandbox-process';

export {
  CHROMIUM_LAUNCH,
  REPO,
  type RunningSandbox,
  type SandboxAdmin,
  startSandboxProcess as startSandbox,
} from '@alphaswarm/server/sandbox-process';

export type Manifest = RunningSandbox['manifest'];

/** The manifest of the sandbox global-setup started for this run. */
export function readManifest(): Manifest {
  const path = process.env.E2E_SANDBOX;
  if (!path) throw new Error('E2E_SANDBOX is not set: run the suite with `pnpm e2e` (global-setup starts the sandbox)');
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** The newest audit rows of `action` in the sandbox whose manifest is at `manifestPath` (its own database). */
export async function auditOf(manifestPath: string, action: string): Promise<AuditRow[]> {
  const store = openStore(join(dirname(manifestPath), 'admin.db'));
  try {
    return await listAudit(store.db, { action }, { limit: 50 });
  } finally {
    store.close();
  }
}
