// The database a test runs on: its vitest project's dialect (vitest.config.ts), a fresh one per call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dialect, openDatabase, type Store } from '@alphaswarm/db';
import { createTestDatabase } from '@alphaswarm/db/testing';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    dialect: Dialect;
    postgres?: { host: string; port: number; template: string };
  }
}

/** A new, migrated database of this project's dialect, and how to close and remove it. */
export async function testStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const cluster = inject('postgres');
  const pg = inject('dialect') === 'postgres' && cluster ? await createTestDatabase(cluster) : null;
  const store = await openDatabase({ dbPath: join(dir, 'admin.db'), ...(pg ? { databaseUrl: pg.url, pool: 4 } : {}) });
  return {
    store,
    async dispose() {
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
