import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntegrationStatus } from '@alphaswarm/contracts';
import { generateKey, isoNow, Keyring, openStore, sealSecret, upsertLink } from '@alphaswarm/db';
import { linkWrite } from '@alphaswarm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/env';
import { cliInProcess } from './run-cli';

const NOW = new Date('2026-06-01T00:00:00Z');
const CANARY = 'hf_CANARY_status_secret_91c2';

describe('alphaswarm-admin status', () => {
  let dir: string;
  let env: ReturnType<typeof parseEnv>;
  let vars: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'status-'));
    const key = generateKey();
    vars = { ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'), ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key, HOME: dir };
    env = parseEnv(vars);
    const store = openStore(env.dbPath);
    const keyring = Keyring.fromEnv(key);
    const link = (org: string, status: IntegrationStatus, expiresAt: string | null, error: string | null = null) =>
      upsertLink(
        store.db,
        linkWrite({
          orgId: org,
          kind: 'huggingface',
          namespace: 'alice',
          status,
          error: error ? { code: error, message: `The upstream said: ${error}.` } : null,
          secret: sealSecret(keyring, { token: CANARY }),
          expiresAt,
        }),
        isoNow(NOW),
      );
    await link('org-fine', 'healthy', null);
    await link('org-soon', 'degraded', '2026-06-05T00:00:00Z', 'expiring_soon');
    await link('org-later', 'degraded', '2026-06-12T00:00:00Z', 'expiring_soon');
    await link('org-broken', 'unhealthy', null, 'credential_rejected');
    store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Through the CLI itself, in-process: the command's registration and exit codes are part of it.
  const run = async (opts: { org?: string; json?: boolean }, more: Record<string, string> = {}) => {
    const args = ['status', ...(opts.org ? ['--org', opts.org] : []), ...(opts.json ? ['--json'] : [])];
    const r = await cliInProcess(args, { env: { ...vars, ...more }, cwd: dir, now: () => NOW });
    return { code: r.code, out: r.stdout.trimEnd(), err: r.stderr.trimEnd() };
  };

  it('lists links needing attention, unhealthy first then soonest expiry, and exits 1; a healthy org exits 0', async () => {
    const all = await run({});
    expect(all.code).toBe(1);
    const lines = all.out.split('\n');
    expect(lines[0]).toBe('3 link(s) need attention:');
    expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(['org-broken', 'org-soon', 'org-later']);
    expect(lines[2]).toContain('degraded, expires in 4 days — expiring_soon: The upstream said: expiring_soon.');

    const json = await run({ json: true, org: 'org-broken' });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out);
    expect(parsed.needs_attention).toBe(1);
    expect(parsed.links[0]).toMatchObject({ org_id: 'org-broken', status: 'unhealthy', expires_at: null });
    expect(`${all.out}${json.out}`).not.toContain(CANARY);

    const fine = await run({ org: 'org-fine' });
    expect(fine).toMatchObject({ code: 0, out: 'Every link of org-fine is healthy.' });
  });

  it('exits 2 when it cannot look (no database), apart from 1 for "needs attention"; --version prints the version', async () => {
    const blind = await run({}, { ALPHASWARM_ADMIN_DB_PATH: join(dir, 'missing.db') });
    expect(blind.code).toBe(2);
    expect(blind.err).toMatch(/^error: No database at .*missing\.db/);
    const version = await cliInProcess(['--version'], { env: vars, cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
