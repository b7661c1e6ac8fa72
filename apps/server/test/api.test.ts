import { createAdminClient } from '@alphaswarm/api/client';
import { countLinks, exportStoreChunks, listAudit, listLinks, sql, verifyAudit } from '@alphaswarm/db';
import {
  type DockerHubFake,
  type HuggingFaceFake,
  hfProfile,
  startDockerHubFake,
  startHuggingFaceFake,
} from '@alphaswarm/providers/fakes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAuditUpdates, breakAuditWrites, storedText } from './support/database';
import { call, type Harness, startHarness } from './support/harness';

const ORG = '/admin/accounts/org-acme/integrations';

describe('admin API end to end (REST + tRPC, real server, real database, HF and Docker Hub fakes)', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  let hub: DockerHubFake;
  const responses: string[] = [];

  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    hub = await startDockerHubFake();
    hf.addToken('hf_read_token_alpha', hfProfile({ name: 'alice', orgs: ['acme-quant'], role: 'read' }));
    hub.addUser({ username: 'dockeruser', pats: ['dckr_pat_alpha'] });
    hub.addOrg({ orgname: 'acmeimages', members: ['dockeruser'] });
    h = await startHarness({ upstreams: { huggingfaceEndpoint: hf.url, dockerHubUrl: hub.url } });
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
    await hub.close();
  });
  afterEach(() => {
    hf.reset?.();
    Object.assign(hf.knobs, {
      status: null,
      rateLimit: null,
      delayMs: 0,
      malformedBody: false,
      oversizedBody: false,
      failWith401: false,
    });
  });

  const rec = async (...args: Parameters<typeof call>) => {
    const res = await call(...args);
    responses.push(res.text, JSON.stringify([...res.headers]));
    return res;
  };

  it('REST: connect → list → health → disconnect with the documented bodies', async () => {
    const connected = await rec(h, 'POST', `${ORG}/huggingface`, {
      body: { token: 'hf_read_token_alpha', namespace: 'acme-quant' },
    });
    expect(connected.status).toBe(200);
    expect(connected.body.audit_run_id).toMatch(/^run_/);
    expect(connected.body.integration).toMatchObject({
      org_id: 'org-acme',
      kind: 'huggingface',
      namespace: 'acme-quant',
      credential_key: 'huggingface:org:org-acme',
      status: 'healthy',
      last_health_status: 'healthy',
      error: null,
      metadata: { type: 'org', auth_email: 'alice@example.com', orgs: ['acme-quant'], token_role: 'read' },
    });
    expect(connected.body.integration.connected_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(hf.requests.at(-1)?.headers.authorization).toBe('Bearer hf_read_token_alpha');

    const docker = await rec(h, 'POST', `${ORG}/dockerhub`, {
      body: { username: 'dockeruser', pat: 'dckr_pat_alpha', namespace: 'acmeimages' },
    });
    expect(docker.status).toBe(200);
    expect(docker.body.integration).toMatchObject({
      kind: 'docker_hub',
      namespace: 'acmeimages',
      metadata: { username: 'dockeruser', namespace_type: 'org' },
    });
    const alias = await rec(h, 'POST', `${ORG}/docker_hub`, {
      body: { username: 'dockeruser', pat: 'dckr_pat_alpha' },
    });
    expect(alias.body.integration).toMatchObject({
      credential_key: 'docker_hub:org:org-acme',
      namespace: 'dockeruser',
    });

    const list = await rec(h, 'GET', ORG);
    expect(list.body.integrations.map((i: { kind: string }) => i.kind)).toEqual(['docker_hub', 'huggingface']);

    const health = await rec(h, 'POST', `${ORG}/huggingface/health`);
    expect(health.status).toBe(200);
    expect(health.body.integration.last_health_at).not.toBeNull();

    const gone = await rec(h, 'DELETE', `${ORG}/huggingface`);
    expect(gone.status).toBe(200);
    expect(gone.body.revocation_guidance).toMatch(/Access Tokens/);
    expect((await rec(h, 'DELETE', `${ORG}/huggingface`)).body.error.code).toBe('not_found');
    expect((await rec(h, 'POST', `${ORG}/huggingface/health`)).status).toBe(404);
    await rec(h, 'DELETE', `${ORG}/docker_hub`);
  });

  it('tRPC through the typed client: the same flow', async () => {
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    const { integration, audit_run_id } = await client.integrations.connect.huggingface.mutate({
      org_id: 'org-trpc',
      token: 'hf_read_token_alpha',
    });
    expect(integration).toMatchObject({ namespace: 'alice', metadata: { type: 'user' } });
    expect(audit_run_id).toMatch(/^run_/);
    const { integrations } = await client.integrations.list.query({ org_id: 'org-trpc' });
    expect(integrations).toHaveLength(1);
    const checked = await client.integrations.checkHealth.mutate({ org_id: 'org-trpc', kind: 'huggingface' });
    expect(checked.integration.status).toBe('healthy');
    const gone = await client.integrations.disconnect.mutate({ org_id: 'org-trpc', kind: 'huggingface' });
    expect(gone.revocation_guidance).toMatch(/Hugging Face/);
    await expect(client.integrations.get.query({ org_id: 'org-trpc', kind: 'huggingface' })).rejects.toMatchObject({
      data: { app_code: 'not_found' },
    });
    // A rejected credential names the upstream and the input field it concerns, for forms.
    await expect(
      client.integrations.connect.huggingface.mutate({ org_id: 'org-trpc', token: 'hf_unknown' }),
    ).rejects.toMatchObject({
      data: { app_code: 'credential_rejected', upstream: 'Hugging Face', field: 'token', httpStatus: 422 },
    });
  });

  it('a single tRPC GET answers alike through the query fast path and through resolveResponse', async () => {
    const token = await h.token();
    // With a Content-Type the server hands the GET to resolveResponse; without one, to its own
    // query path. Everything but the per-response id and date must match.
    const both = async (target: string, auth: string | null = token) => {
      const answers = await Promise.all(
        ([{}, { 'content-type': 'application/json' }] as Record<string, string>[]).map(async (extra) => {
          const res = await fetch(`${h.url}${target}`, {
            headers: { ...extra, ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
          });
          const headers = Object.fromEntries(
            [...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date').sort(),
          );
          return { status: res.status, headers, text: await res.text() };
        }),
      );
      expect(answers[0], target).toEqual(answers[1]);
      return answers[0]!;
    };
    const q = (input: unknown) => `input=${encodeURIComponent(JSON.stringify(input))}`;
    expect((await both(`/trpc/integrations.list?${q({ org_id: 'org-acme' })}`)).status).toBe(200);
    const missing = await both(`/trpc/integrations.get?${q({ org_id: 'org-none', kind: 'huggingface' })}`);
    expect(JSON.parse(missing.text).error.data).toMatchObject({ app_code: 'not_found', httpStatus: 404 });
    const anonymous = await both(`/trpc/integrations.list?${q({ org_id: 'org-acme' })}`, null);
    expect([anonymous.status, anonymous.headers['www-authenticate']]).toEqual([401, expect.stringContaining('Bearer')]);
    expect((await both(`/trpc/integrations.list?${q({ org_id: 7 })}`)).status).toBe(400);
    expect((await both('/trpc/integrations.list?input=%7Bnot-json')).status).toBe(400);
    expect((await both('/trpc/integrations.list')).status).toBe(400);
    // Not queries: resolveResponse answers both ways.
    expect((await both(`/trpc/integrations.disconnect?${q({ org_id: 'org-acme', kind: 'huggingface' })}`)).status).toBe(
      405,
    );
    expect((await both('/trpc/integrations.nothing')).status).toBe(404);
  });

  it('bad input: a clear 400 and nothing changes', async () => {
    const before = await countLinks(h.store.db);
    for (const [path, body] of [
      [`/admin/accounts/-bad-org/integrations/huggingface`, { token: 'hf_x' }],
      [`/admin/accounts/${'a'.repeat(65)}/integrations/huggingface`, { token: 'hf_x' }],
      [`${ORG}/huggingface`, {}],
      [`${ORG}/huggingface`, '{not json'],
      [`${ORG}/huggingface`, [1, 2]],
      [`${ORG}/dockerhub`, { username: 'dockeruser' }],
      [`${ORG}/gitlab`, { token: 'x' }],
    ] as const) {
      const res = await rec(h, 'POST', path, { body });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message.length).toBeGreaterThan(5);
    }
    expect(await countLinks(h.store.db)).toBe(before);
  });

  it('upstream faults: each a typed error naming the upstream; the server stays responsive', async () => {
    const cases: [Partial<HuggingFaceFake['knobs']>, number, string][] = [
      [{ failWith401: true }, 422, 'credential_rejected'],
      [{ rateLimit: { retryAfterSeconds: 7 } }, 429, 'rate_limited'],
      [{ status: 500 }, 502, 'upstream_unavailable'],
      [{ malformedBody: true }, 502, 'upstream_unavailable'],
      [{ oversizedBody: true }, 502, 'upstream_unavailable'],
    ];
    for (const [knobs, status, code] of cases) {
      Object.assign(hf.knobs, knobs);
      const res = await rec(h, 'POST', `${ORG}/huggingface`, { body: { token: 'hf_read_token_alpha' } });
      expect(res.status, JSON.stringify(knobs)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toContain('Hugging Face');
      if (code === 'rate_limited') expect(res.headers.get('retry-after')).toBe('7');
      Object.assign(hf.knobs, {
        failWith401: false,
        rateLimit: null,
        status: null,
        malformedBody: false,
        oversizedBody: false,
      });
      expect((await call(h, 'GET', '/healthz', { token: null })).status).toBe(200);
    }
    const denied = await rec(h, 'POST', `${ORG}/huggingface`, {
      body: { token: 'hf_read_token_alpha', namespace: 'not-my-org' },
    });
    expect(denied.status).toBe(422);
    expect(denied.body.error.code).toBe('namespace_denied');
    expect(await countLinks(h.store.db)).toBe(0);
  });

  it('upstream timeout → 504 upstream_unavailable, server still answers meanwhile', async () => {
    const slow = await startHarness({
      upstreams: { huggingfaceEndpoint: hf.url },
      http: new (await import('@alphaswarm/providers')).HttpClient({ totalTimeoutMs: 400 }),
    });
    try {
      hf.knobs.delayMs = 1500;
      const pending = call(slow, 'POST', `${ORG}/huggingface`, { body: { token: 'hf_read_token_alpha' } });
      expect((await call(slow, 'GET', '/healthz', { token: null })).status).toBe(200);
      const res = await pending;
      expect(res.status).toBe(504);
      expect(res.body.error).toMatchObject({ code: 'upstream_unavailable' });
      expect(res.body.error.message).toMatch(/Hugging Face did not answer/);
    } finally {
      hf.knobs.delayMs = 0;
      await slow.close();
    }
  });

  it('20 concurrent connects of the same (org, kind) leave one record and a consistent audit trail', async () => {
    const before = (await listAudit(h.store.db, {}, { limit: 10_000 })).length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(h, 'POST', '/admin/accounts/org-race/integrations/huggingface', {
          body: { token: 'hf_read_token_alpha' },
        }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await listLinks(h.store.db, 'org-race')).toHaveLength(1);
    const events = (await listAudit(h.store.db, { orgId: 'org-race' }, { limit: 1000 })).reverse();
    expect(events.length).toBe(40);
    expect((await listAudit(h.store.db, {}, { limit: 10_000 })).length).toBe(before + 40);
    const runs = new Set(results.map((r) => r.body.audit_run_id));
    expect(runs.size).toBe(20);
    for (const run of runs) {
      const mine = events.filter((e) => e.runId === run);
      expect(mine.map((e) => e.phase)).toEqual(['attempt', 'outcome']);
      expect(mine[1]?.outcome).toBe('success');
    }
    expect((await verifyAudit(h.store.db)).ok).toBe(true);
  });

  it('audit fail-closed: when the audit write fails nothing happens upstream or locally', async () => {
    const repair = await breakAuditWrites(h.store);
    const seen = hf.requests.length;
    try {
      const res = await call(h, 'POST', '/admin/accounts/org-closed/integrations/huggingface', {
        body: { token: 'hf_read_token_alpha' },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('audit_unavailable');
      expect(hf.requests.length).toBe(seen);
      expect(await listLinks(h.store.db, 'org-closed')).toEqual([]);
      const client = createAdminClient({ url: h.url, token: () => h.token() });
      await expect(
        client.integrations.connect.huggingface.mutate({ org_id: 'org-closed', token: 'hf_read_token_alpha' }),
      ).rejects.toMatchObject({
        data: { app_code: 'audit_unavailable', httpStatus: 503 },
      });
      expect(hf.requests.length).toBe(seen);
    } finally {
      await repair();
    }
  });

  it('tampering with an audit row is detected and named', async () => {
    const events = await listAudit(h.store.db, {}, { limit: 5 });
    const victim = events[2]!;
    const restore = await allowAuditUpdates(h.store);
    try {
      await h.store.exec(sql`update audit_events set actor = 'mallory' where seq = ${victim.seq}`);
      const ring = h.rt.auditKeys;
      const verdict = await verifyAudit(h.store.db, { ring });
      expect(verdict.ok).toBe(false);
      expect(verdict.broken).toMatchObject({ seq: victim.seq, id: victim.id });
      expect(verdict.broken?.reason).toMatch(/rewritten/);
      await h.store.exec(sql`update audit_events set actor = ${victim.actor} where seq = ${victim.seq}`);
      expect((await verifyAudit(h.store.db, { ring })).ok).toBe(true);
    } finally {
      await restore();
    }
  });

  it('secret canary: the token and PAT appear nowhere in clear', async () => {
    const token = `hf_CANARY${Date.now()}abcdefghijklmnop`;
    const pat = `dckr_pat_CANARY${Date.now()}xyz`;
    hf.addToken(token, hfProfile({ name: 'canary', role: 'write' }));
    hub.addUser({ username: 'canaryuser', pats: [pat] });
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/huggingface', { body: { token } });
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/dockerhub', {
      body: { username: 'canaryuser', pat },
    });
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/huggingface', { body: { token, namespace: 'nope' } });
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/huggingface/health');
    hf.knobs.failWith401 = true;
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/huggingface', { body: { token } });
    await rec(h, 'POST', '/admin/accounts/org-canary/integrations/huggingface/health');
    hf.knobs.failWith401 = false;
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    responses.push(JSON.stringify(await client.integrations.list.query({ org_id: 'org-canary' })));
    let exported = '';
    for await (const chunk of exportStoreChunks(h.store.db, { now: new Date() })) exported += chunk;
    expect(exported).toContain('org-canary');
    const haystacks = {
      export: exported,
      responses: responses.join('\n'),
      logs: h.logs.join('\n'),
      audit: JSON.stringify(await listAudit(h.store.db, {}, { limit: 100_000 })),
      database: await storedText(h.store, h.database.config),
    };
    expect(haystacks.logs.length).toBeGreaterThan(100);
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.includes(token), `token in ${where}`).toBe(false);
      expect(text.includes(pat), `PAT in ${where}`).toBe(false);
    }
    expect(await countLinks(h.store.db)).toBeGreaterThan(0);
  });

  it('store router: export, then a validated import (dry run, conflicts, wrong key) that changes nothing', async () => {
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    await client.integrations.connect.huggingface.mutate({ org_id: 'org-store', token: 'hf_read_token_alpha' });
    const status = await client.store.status.query();
    expect(status.fingerprints[0]).toMatch(/^fp_[0-9a-f]{12}$/);
    expect(status.production_problems.length).toBeGreaterThan(0);
    const { content, filename } = await client.store.export.mutate();
    expect(filename).toMatch(/^alphaswarm-integrations-.*\.json$/);
    const before = await countLinks(h.store.db);
    const conflict = await client.store.import.mutate({ content, dry_run: true, on_conflict: 'fail' });
    expect(conflict.ok).toBe(false);
    expect(conflict.conflicts).toContain('huggingface:org:org-store');
    const replace = await client.store.import.mutate({ content, dry_run: true, on_conflict: 'replace' });
    expect(replace).toMatchObject({ ok: true, dry_run: true, replaced: before });
    const other = await startHarness();
    try {
      const foreign = createAdminClient({ url: other.url, token: () => other.token() });
      const wrongKey = await foreign.store.import.mutate({ content, dry_run: false, on_conflict: 'fail' });
      expect(wrongKey.ok).toBe(false);
      expect(JSON.stringify(wrongKey.problems)).toMatch(/ALPHASWARM_ADMIN_INTEGRATIONS_KEY/);
      expect(await countLinks(other.store.db)).toBe(0);
    } finally {
      await other.close();
    }
    expect(await countLinks(h.store.db)).toBe(before);
  });
});
