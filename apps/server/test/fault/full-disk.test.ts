// The database on a real tmpfs filled to the last page: every mutation answers 2xx and is there
// after a restart, or answers 503 and changed nothing; every audit attempt gets its outcome;
// /readyz says not ready while the database cannot write.
import { join } from 'node:path';
import { createAdminClient } from '@alphaswarm/api/client';
import { type AuditRow, listAudit, openSecret, type SqliteStore, sealSecret, verifyAudit } from '@alphaswarm/db';
import { mountTmpfs, type Tmpfs, tmpfsUnavailable } from '@alphaswarm/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, recoverAudit } from '../../src/runtime/index';
import { type DemoUpstreams, startDemoUpstreams } from '../../src/sandbox/upstreams';
import { call, freePort, type Harness, startHarness } from '../support/harness';

const unavailable = tmpfsUnavailable();
if (unavailable) console.warn(`\n*** SKIPPING the full-disk fault suite: ${unavailable} ***\n`);

interface Answer {
  status: number;
  code: string | null;
  runId: string | null;
  body: any;
}

describe.skipIf(unavailable !== null)('fault: the database on a full file system', () => {
  let fs: Tmpfs;
  let up: DemoUpstreams;
  let port: number;
  let h: Harness;
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let n = 0;

  beforeAll(async () => {
    fs = mountTmpfs(24 << 20);
    port = await freePort();
    up = await startDemoUpstreams({ workloadIssuer: `http://127.0.0.1:${port}/workload` });
  });
  afterAll(async () => {
    await up?.close();
    fs?.unmount();
  });
  afterEach(async () => {
    fs.free();
    await h?.close();
  });

  async function start() {
    fs.free();
    h = await startHarness({ port, upstreams: up.upstreams, dbPath: join(fs.dir, `admin-${n++}.db`), now });
    return createAdminClient({
      url: h.url,
      token: () => h.oidc.mint({ auth_time: Math.floor(now().getTime() / 1000) }),
    });
  }

  /** Full from the next commit on: an empty WAL, and not one free page left. */
  function fill(leave = 0) {
    fs.free();
    h.rt.store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    fs.fill();
    if (leave) fs.free(leave);
  }

  const rest = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const r = await call(h, method, path, {
      token: await h.oidc.mint({ auth_time: Math.floor(now().getTime() / 1000) }),
      ...(body ? { body } : {}),
    });
    return { status: r.status, code: r.body?.error?.code ?? null, runId: r.body?.audit_run_id ?? null, body: r.body };
  };
  const trpc = async <T>(work: () => Promise<T>): Promise<Answer> => {
    try {
      const body = (await work()) as any;
      return { status: 200, code: null, runId: body?.audit_run_id ?? null, body };
    } catch (error) {
      const data = (error as { data?: { httpStatus?: number; app_code?: string } }).data;
      return { status: data?.httpStatus ?? 0, code: data?.app_code ?? null, runId: null, body: null };
    }
  };
  const connectHf = (org: string) =>
    rest('POST', `/admin/accounts/${org}/integrations/huggingface`, { token: up.demo.huggingface.token });
  const storeFile = (org: string) =>
    JSON.stringify({
      format: 'alphaswarm.integrations',
      version: 1,
      exported_at: '2026-05-27T20:00:00Z',
      integrations: [
        {
          credential_key: `huggingface:org:${org}`,
          org_id: org,
          kind: 'huggingface',
          namespace: 'imported',
          status: 'healthy',
          connected_at: '2026-05-27T20:00:00Z',
          last_health_at: null,
          last_health_status: null,
          error: null,
          metadata: {},
          secret: sealSecret(h.keyring, { token: `hf_imported_${org}` }),
        },
      ],
    });

  /** Start-up as `serve` does it, on the same file, after the server went away. */
  async function restart() {
    const env = h.rt.env;
    await h.server.close();
    h.store.close();
    const boot = await bootstrap(env, { info: () => undefined, warn: () => undefined });
    // The harness closes its store at the end; this one replaces it.
    h.store = boot.store as SqliteStore;
    return h.store;
  }

  function expectEveryAttemptClosed(rows: AuditRow[]) {
    const attempts = rows.filter((r) => r.phase === 'attempt').map((r) => r.runId);
    const outcomes = rows.filter((r) => r.phase === 'outcome').map((r) => r.runId);
    expect(new Set(outcomes)).toEqual(new Set(attempts));
    expect(outcomes).toHaveLength(new Set(outcomes).size);
  }

  it('full to the last page: every mutation answers 503 and changes nothing; /readyz is not ready until space is back', async () => {
    const admin = await start();
    expect((await connectHf('org-a')).status).toBe(200);
    const dh = await rest('POST', '/admin/accounts/org-b/integrations/dockerhub', {
      username: up.demo.docker_hub.username,
      pat: up.demo.docker_hub.pat,
      namespace: up.demo.docker_hub.namespace,
    });
    expect(dh.status, JSON.stringify(dh.body)).toBe(200);
    const { session_id } = await admin.cloudOnboarding.start.mutate({
      org_id: up.demo.org_id,
      kind: 'cloud_cloudflare',
    });
    await admin.cloudOnboarding.validateIdentity.mutate({ session_id, params: up.demo.cloud_cloudflare });
    await admin.cloudOnboarding.validatePermissions.mutate({ session_id });
    await admin.cloudOnboarding.connect.mutate({ session_id });
    const aws = await admin.cloudOnboarding.start.mutate({ org_id: up.demo.org_id, kind: 'cloud_aws' });
    const rows = () => ({
      links: h.rt.store.sqlite.prepare('SELECT * FROM integrations ORDER BY 1').all(),
      sessions: h.rt.store.sqlite.prepare('SELECT * FROM wizard_sessions ORDER BY 1').all(),
    });
    const before = rows();
    expect((await call(h, 'GET', '/readyz', { token: null })).body).toMatchObject({ status: 'ready' });

    fill();
    offset += 2_000;
    const ready = await call(h, 'GET', '/readyz', { token: null });
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({
      status: 'not_ready',
      checks: { database: true, writable: false, migrations: true, keyring: true },
    });

    const answers: Record<string, Answer> = {
      connect: await connectHf('org-new'),
      disconnect: await rest('DELETE', '/admin/accounts/org-a/integrations/huggingface'),
      checkHealth: await rest('POST', '/admin/accounts/org-b/integrations/dockerhub/health'),
      rotate: await trpc(() => admin.integrations.rotate.mutate({ org_id: up.demo.org_id, kind: 'cloud_cloudflare' })),
      wizardStart: await trpc(() => admin.cloudOnboarding.start.mutate({ org_id: 'org-w', kind: 'cloud_gcp' })),
      wizardStep: await trpc(() =>
        admin.cloudOnboarding.validateIdentity.mutate({ session_id: aws.session_id, params: up.demo.cloud_aws }),
      ),
      import: await trpc(() => admin.store.import.mutate({ content: storeFile('org-i'), dry_run: false })),
    };
    for (const [name, answer] of Object.entries(answers)) {
      expect({ name, status: answer.status }).toEqual({ name, status: 503 });
      expect(['audit_unavailable', 'storage_unavailable']).toContain(answer.code);
    }

    fs.free();
    offset += 2_000;
    expect((await call(h, 'GET', '/readyz', { token: null })).status).toBe(200);
    const store = await restart();
    expect({
      links: store.sqlite.prepare('SELECT * FROM integrations ORDER BY 1').all(),
      sessions: store.sqlite.prepare('SELECT * FROM wizard_sessions ORDER BY 1').all(),
    }).toEqual(before);
    expectEveryAttemptClosed(await listAudit(store.db, {}, { limit: 1000 }));
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });

  it('nearly full: each mutation answers 2xx and is there after a restart, or 503 and changed nothing', async () => {
    const admin = await start();
    const ORGS = 14;
    for (let i = 0; i < ORGS; i++) expect((await connectHf(`org-d${i}`)).status).toBe(200);
    expect(
      (
        await rest('POST', '/admin/accounts/org-h/integrations/dockerhub', {
          username: up.demo.docker_hub.username,
          pat: up.demo.docker_hub.pat,
          namespace: up.demo.docker_hub.namespace,
        })
      ).status,
    ).toBe(200);

    const results: { i: number; op: string; answer: Answer; at: string; done: string }[] = [];
    let queued = 0;
    for (let i = 0; i < ORGS; i++) {
      // From nothing to a few commits' worth of free pages.
      fill(i * 6 * 4096);
      const record = async (op: string, answer: Promise<Answer>) => {
        offset += 1_000;
        const second = () =>
          now()
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z');
        // The server stamps its own now(): some instant between these two, which may be a second apart.
        const at = second();
        const settled = await answer;
        results.push({ i, op, answer: settled, at, done: second() });
      };
      await record('connect', connectHf(`org-c${i}`));
      await record('disconnect', rest('DELETE', `/admin/accounts/org-d${i}/integrations/huggingface`));
      await record('checkHealth', rest('POST', '/admin/accounts/org-h/integrations/dockerhub/health'));
      await record(
        'wizardStart',
        trpc(() => admin.cloudOnboarding.start.mutate({ org_id: `org-w${i}`, kind: 'cloud_gcp' })),
      );
      await record(
        'import',
        trpc(() => admin.store.import.mutate({ content: storeFile(`org-i${i}`), dry_run: false })),
      );
      queued = Math.max(queued, h.rt.outcomes.size);
    }
    for (const r of results)
      expect([200, 503], `${r.op} #${r.i}: ${JSON.stringify(r.answer.body)}`).toContain(r.answer.status);
    // The sweep crossed the boundary: some writes fit, some did not.
    expect(results.some((r) => r.answer.status === 200)).toBe(true);
    expect(results.some((r) => r.answer.status === 503)).toBe(true);
    expect(queued, 'some run ended while its outcome could not be written').toBeGreaterThan(0);

    // Space comes back; the server's periodic pass writes the outcomes it kept, then it restarts.
    fs.free();
    await recoverAudit(h.rt, h.rt.logger, { now: now(), outcomes: h.rt.outcomes });
    expect(h.rt.outcomes.size).toBe(0);
    const store = await restart();
    const link = (org: string, kind = 'huggingface') =>
      store.sqlite.prepare('SELECT * FROM integrations WHERE org_id = ? AND kind = ?').get(org, kind) as
        | { secret: string; last_health_at: string }
        | undefined;
    const ok = (r: (typeof results)[number]) => r.answer.status === 200;
    for (const r of results.filter((x) => x.op === 'connect')) {
      const row = link(`org-c${r.i}`);
      expect({ i: r.i, stored: row !== undefined }).toEqual({ i: r.i, stored: ok(r) });
      if (row) expect(openSecret(h.keyring, row.secret)).toEqual({ token: up.demo.huggingface.token });
    }
    for (const r of results.filter((x) => x.op === 'disconnect')) {
      const row = link(`org-d${r.i}`);
      expect({ i: r.i, gone: row === undefined }).toEqual({ i: r.i, gone: ok(r) });
      if (row) expect(openSecret(h.keyring, row.secret)).toEqual({ token: up.demo.huggingface.token });
    }
    const lastHealth = results.filter((x) => x.op === 'checkHealth' && ok(x)).at(-1);
    if (lastHealth) {
      const stamped = link('org-h', 'docker_hub')?.last_health_at ?? '';
      expect(
        stamped >= lastHealth.at && stamped <= lastHealth.done,
        `${stamped} in ${lastHealth.at}..${lastHealth.done}`,
      ).toBe(true);
    }
    for (const r of results.filter((x) => x.op === 'wizardStart')) {
      const sessions = store.sqlite.prepare('SELECT id FROM wizard_sessions WHERE org_id = ?').all(`org-w${r.i}`);
      expect({ i: r.i, sessions }).toEqual({ i: r.i, sessions: ok(r) ? [{ id: r.answer.body.session_id }] : [] });
    }
    for (const r of results.filter((x) => x.op === 'import')) {
      expect({ i: r.i, stored: link(`org-i${r.i}`) !== undefined }).toEqual({ i: r.i, stored: ok(r) });
    }

    const audit = await listAudit(store.db, {}, { limit: 5000 });
    expectEveryAttemptClosed(audit);
    for (const r of results.filter((x) => ok(x) && x.answer.runId)) {
      expect(audit.find((a) => a.runId === r.answer.runId && a.phase === 'outcome')?.outcome).toBe('success');
    }
    expect((await verifyAudit(store.db)).ok).toBe(true);
    console.info(
      `full-disk sweep: ${results.filter(ok).length} of ${results.length} mutations stored, most outcomes queued at once: ${queued}`,
    );
  });
});
