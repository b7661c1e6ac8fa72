// An export never silently carries secrets that no configured key can read: the console's store
// router and the CLI refuse, naming the key fingerprint, unless told to export them as they are.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminClient } from '@alphaswarm/api/client';
import { generateKey, Keyring, listAudit, sealSecret, upsertLink } from '@alphaswarm/db';
import { linkWrite } from '@alphaswarm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/alphaswarm-admin');

describe('export with a secret no configured key reads', () => {
  let h: Harness;
  const lost = Keyring.fromEnv(generateKey());

  beforeAll(async () => {
    h = await startHarness();
    for (const [org, ring] of [
      ['org-fine', h.keyring],
      ['org-lost', lost],
    ] as const) {
      await upsertLink(
        h.store.db,
        linkWrite({
          orgId: org,
          kind: 'huggingface',
          namespace: org,
          secret: sealSecret(ring, { token: `hf_${org}` }),
        }),
        '2026-05-27T20:00:00Z',
      );
    }
  });
  afterAll(() => h.close());

  it('store.export refuses it, naming the fingerprint, unless allow_unreadable', async () => {
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    const refused = await client.store.export.mutate().catch((e) => e);
    expect(refused.data).toMatchObject({ httpStatus: 409, app_code: 'secret_unreadable', field: 'allow_unreadable' });
    expect(refused.message).toBe(
      `1 stored secret cannot be decrypted with the configured key (fingerprint ${h.keyring.fingerprints()[0]}): huggingface:org:org-lost; nothing was exported. Restore the key they were stored with in ALPHASWARM_ADMIN_INTEGRATIONS_KEY, or allow unreadable secrets to export them as they are.`,
    );
    const allowed = await client.store.export.mutate({ allow_unreadable: true });
    expect(allowed.unreadable).toBe(1);
    expect(JSON.parse(allowed.content).integrations).toHaveLength(2);
    const outcomes = await listAudit(h.store.db, { action: 'store.export' }, { limit: 10 });
    expect(outcomes.filter((a) => a.phase === 'outcome').map((a) => [a.outcome, a.detail.code ?? null])).toEqual([
      ['success', null],
      ['failure', 'secret_unreadable'],
    ]);
  });

  it('the CLI exits 1 naming the fingerprint, and exports with --allow-unreadable', { timeout: 30_000 }, () => {
    const cli = (args: string[]) =>
      spawnSync(BIN, args, {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: h.dir,
          ...h.database.env,
          ALPHASWARM_ADMIN_INTEGRATIONS_KEY: h.key,
        },
      });
    const out = join(h.dir, 'export.json');
    const refused = cli(['export', '--out', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `error: 1 stored secret cannot be decrypted with the configured key (fingerprint ${h.keyring.fingerprints()[0]}): huggingface:org:org-lost; nothing was exported. Set ALPHASWARM_ADMIN_INTEGRATIONS_KEY to the key they were stored with (or add it to the comma-separated list), or export them unreadable as they are with --allow-unreadable.\n`,
    );
    const allowed = cli(['export', '--out', out, '--allow-unreadable']);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stderr).toBe(
      'warning: 1 secret that no configured key decrypts was exported as stored (--allow-unreadable).\n',
    );
    expect(JSON.parse(readFileSync(out, 'utf8')).integrations).toHaveLength(2);
  });
});
