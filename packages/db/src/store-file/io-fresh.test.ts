// Store-file rules that need a database of their own per case. io.test.ts shares one database per
// block, so a statement prepared by an earlier case is reused by the later ones (and Stryker's
// per-test coverage credits only the case that built it); these cases each open a fresh one.
import type { StoreFileRecord } from '@alphaswarm/contracts';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { keyring, sampleRecords } from '../../test/store-file-fixtures';
import { testStore } from '../../test/stores';
import { generateKey, Keyring } from '../crypto/fernet';
import type { Store } from '../database';
import { countLinks } from '../repo/integrations';
import { sealSecret } from '../secrets';
import { exportStoreChunks, importStore, StoreFileError, UnreadableExportError } from '.';

const NOW = new Date('2026-05-27T20:00:00Z');

async function withStore(run: (s: Store) => Promise<void>): Promise<void> {
  const s = await testStore();
  try {
    await run(s);
  } finally {
    await s.close();
  }
}

describe('store file on a fresh database', () => {
  it('fail: the same link twice in one import is a conflict at write time, and nothing is written', async () => {
    await withStore(async (s) => {
      const [hf, , , , aws] = sampleRecords();
      await expect(importStore(s.db, [aws!, hf!, hf!], { keyring, onConflict: 'fail', now: NOW })).rejects.toThrow(
        StoreFileError,
      );
      expect(await countLinks(s.db)).toBe(0);
    });
  });

  it('stores a missing error as SQL NULL, as a link written by the service has it', async () => {
    await withStore(async (s) => {
      const [hf, dh] = sampleRecords();
      await importStore(s.db, [hf!, dh!], { keyring, onConflict: 'fail', now: NOW });
      expect(await s.exec(sql`SELECT kind FROM integrations WHERE error IS NULL`)).toEqual([{ kind: 'huggingface' }]);
    });
  });

  it('checks more links than one statement may name (SQLite binds at most 32,766 values)', async () => {
    await withStore(async (s) => {
      const [, , , , aws] = sampleRecords();
      await importStore(s.db, [aws!], { keyring, onConflict: 'fail', now: NOW });
      const keys = Array.from({ length: 33_000 }, (_, i) => ({ credential_key: `cloud_aws:org:o${i}` }));
      const records = [...keys, { credential_key: aws!.credential_key }] as StoreFileRecord[];
      const result = await importStore(s.db, records, { keyring, onConflict: 'skip', dryRun: true, now: NOW });
      expect(result).toMatchObject({ inserted: 33_000, skipped: 1, conflicts: [aws!.credential_key] });
    });
  });

  it('refuses an export with an unreadable secret when nobody listens for each one', async () => {
    await withStore(async (s) => {
      const other = Keyring.fromEnv(generateKey());
      const [hf] = sampleRecords();
      await importStore(s.db, [{ ...hf!, secret: sealSecret(other, { token: 't' }) }], {
        keyring: other,
        onConflict: 'fail',
        now: NOW,
      });
      const run = async () => {
        for await (const _ of exportStoreChunks(s.db, { now: NOW, secrets: { keyring } })) {
          // drain
        }
      };
      await expect(run()).rejects.toEqual(new UnreadableExportError([hf!.credential_key], keyring.fingerprints()));
    });
  });
});
