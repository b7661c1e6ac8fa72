import type { AppRouter } from '@alphaswarm/api';
import { createAdminClient } from '@alphaswarm/api/client';
import { listAudit } from '@alphaswarm/db';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoUpstreams, startDemoUpstreams } from '../src/sandbox/upstreams';
import { storedText } from './support/database';
import { freePort, type Harness, startHarness } from './support/harness';

const ORG = 'org-demo';
const CONSOLE = 'https://console.example.test';

describe('hand-off links: the customer’s cloud admin runs the checks from a token-gated public API', () => {
  let h: Harness;
  let up: DemoUpstreams;
  let clock = Date.now();
  let admin: ReturnType<typeof createAdminClient>;
  // No Authorization header at all: what the public page's server sends.
  let anon: ReturnType<typeof createTRPCClient<AppRouter>>;

  beforeAll(async () => {
    const port = await freePort();
    up = await startDemoUpstreams({ workloadIssuer: `http://127.0.0.1:${port}/workload`, orgId: ORG });
    h = await startHarness({
      port,
      upstreams: up.upstreams,
      now: () => new Date(clock),
      env: { ALPHASWARM_ADMIN_CONSOLE_URL: CONSOLE, ALPHASWARM_ADMIN_ROLE_MAP: 'acme-admins=admin:org:org-a' },
    });
    const at = () => Math.floor(clock / 1000);
    admin = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: at() }) });
    anon = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${h.url}/trpc` })] });
  });
  afterAll(async () => {
    await h.close();
    await up.close();
  });

  async function shared(org: string, kind: 'cloud_aws' | 'cloud_cloudflare', ttl_seconds?: number) {
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: org, kind });
    await admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id });
    const link = await admin.cloudOnboarding.share.mutate({
      session_id,
      ...(ttl_seconds ? { ttl_seconds } : {}),
    });
    const token = link.url.slice(`${CONSOLE}/handoff/`.length);
    return { session_id, link, token };
  }

  const gone = { data: { app_code: 'not_found' }, message: expect.stringMatching(/expired or was revoked/) };

  it('share → get → submit (fails, then passes) → operator sees progress and connects → revoke → refused', async () => {
    const { session_id, link, token } = await shared(ORG, 'cloud_aws');
    expect(link.url.startsWith(`${CONSOLE}/handoff/`)).toBe(true);
    expect(Date.parse(link.expires_at) - clock).toBeGreaterThan(72 * 3600 * 1000 - 2000);
    expect(Date.parse(link.expires_at) - clock).toBeLessThanOrEqual(72 * 3600 * 1000);

    const view = await anon.handoff.get.query({ token });
    expect(view).toMatchObject({ kind: 'cloud_aws', label: 'AWS', identity: null, connected: false });
    expect(view.artifacts?.subject).toBe(`org:${ORG}:cloud_aws`);
    expect(JSON.stringify(view)).not.toContain('org_id');
    // The customer can check the published issuer as the operator can (here the server's own /workload).
    const trust = await anon.handoff.verifyTrust.mutate({ token });
    expect(trust.checks.map((c) => [c.check, c.ok])).toEqual([
      ['discovery', true],
      ['issuer', true],
      ['keys', true],
      ['signature', true],
    ]);
    const progress = await admin.cloudOnboarding.progress.query({ session_id });
    expect(progress).toMatchObject({
      params_entered: false,
      steps: { bootstrap_artifacts: 'done', validate_identity: 'todo' },
    });

    const wrong = await anon.handoff.submit
      .mutate({ token, params: { role_arn: 'arn:aws:iam::111122223333:role/not-there' } })
      .catch((e) => e);
    // The same actionable error the operator's wizard shows, recorded on the session too.
    expect(wrong.data.app_code).toBe('trust_misconfigured');
    expect(wrong.message).toContain(`org:${ORG}:cloud_aws`);
    // What the operator's page polls moves with the customer's attempt.
    const moved = await admin.cloudOnboarding.progress.query({ session_id });
    expect(moved.version).toBeGreaterThan(progress.version);
    expect(moved).toMatchObject({ params_entered: true, steps: { validate_identity: 'failed' } });
    expect((await anon.handoff.get.query({ token })).identity).toMatchObject({
      ok: false,
      error: { code: 'trust_misconfigured' },
    });
    const bad = await anon.handoff.submit.mutate({ token, params: { role_arn: 'nope' } }).catch((e) => e);
    expect(bad.data).toMatchObject({ app_code: 'invalid_request', field: 'role_arn' });

    const ok = await anon.handoff.submit.mutate({ token, params: up.demo.cloud_aws });
    expect(ok.identity.principal.length).toBeGreaterThan(0);
    expect(ok.checks.filter((c) => c.required).every((c) => c.granted)).toBe(true);

    const operator = await admin.cloudOnboarding.get.query({ session_id });
    expect(operator.steps.validate_identity?.ok).toBe(true);
    expect(operator.steps.validate_permissions?.passed).toBe(true);
    expect(operator.shares).toEqual([expect.objectContaining({ share_id: link.share_id, live: true })]);
    const connected = await admin.cloudOnboarding.connect.mutate({ session_id });
    expect(connected.integration.kind).toBe('cloud_aws');
    // Finished: no longer offered to resume.
    const open = (await admin.cloudOnboarding.list.query({ org_id: ORG })).sessions.map((s) => s.session_id);
    expect(open).not.toContain(session_id);
    expect((await anon.handoff.get.query({ token })).connected).toBe(true);

    const actions = (await listAudit(h.store.db, {}, { limit: 1000 })).filter(
      (e) => e.actor === `share:${link.share_id}`,
    );
    expect(new Set(actions.map((e) => e.action))).toEqual(
      new Set(['handoff.get', 'handoff.submit', 'handoff.verifyTrust']),
    );
    expect(JSON.stringify(actions)).not.toContain(token);
    const shareAudit = await listAudit(h.store.db, { action: 'cloudOnboarding.share' }, { limit: 10 });
    expect(shareAudit.length).toBeGreaterThan(0);
    expect(JSON.stringify(shareAudit)).not.toContain(token);

    expect(await admin.cloudOnboarding.revokeShare.mutate({ share_id: link.share_id })).toEqual({
      revoked: [link.share_id],
    });
    await expect(anon.handoff.get.query({ token })).rejects.toMatchObject(gone);
    await expect(anon.handoff.submit.mutate({ token, params: up.demo.cloud_aws })).rejects.toMatchObject(gone);
    await expect(anon.handoff.verifyTrust.mutate({ token })).rejects.toMatchObject(gone);
    // Unknown and malformed tokens get the very same answer.
    await expect(anon.handoff.get.query({ token: 'A'.repeat(43) })).rejects.toMatchObject(gone);
    await expect(anon.handoff.get.query({ token: 'x' })).rejects.toMatchObject(gone);
  });

  it('expires by the clock; beyond 7 days is refused with a typed error; revoke by session', async () => {
    const over = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind: 'cloud_aws' });
    await admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id: over.session_id });
    const error = await admin.cloudOnboarding.share
      .mutate({ session_id: over.session_id, ttl_seconds: 7 * 24 * 3600 + 1 })
      .catch((e) => e);
    expect(error.data.app_code).toBe('invalid_request');
    expect(error.message).toContain('at most 7 days');

    const { token } = await shared(ORG, 'cloud_aws', 3600);
    // The session itself (24 h) would still be live: the link's own expiry refuses it.
    expect((await anon.handoff.get.query({ token })).kind).toBe('cloud_aws');
    clock += 3600 * 1000 + 1000;
    await expect(anon.handoff.get.query({ token })).rejects.toMatchObject(gone);

    const week = await shared(ORG, 'cloud_aws', 7 * 24 * 3600);
    clock += 3 * 24 * 3600 * 1000;
    // A shared session outlives its own 24 h: it lives as long as its link.
    expect((await anon.handoff.get.query({ token: week.token })).kind).toBe('cloud_aws');
    const revoked = await admin.cloudOnboarding.revokeShare.mutate({ session_id: week.session_id });
    expect(revoked.revoked).toEqual([week.link.share_id]);
    await expect(anon.handoff.get.query({ token: week.token })).rejects.toMatchObject(gone);
  });

  it('discard: the session leaves the list, its live links stop working, audited; another org’s admin is refused', async () => {
    const { session_id, link, token } = await shared('org-a', 'cloud_aws');
    const scoped = createAdminClient({
      url: h.url,
      token: () =>
        h.oidc.mint({ scope: '', groups: ['acme-admins'], sub: 'acme-member' }, { now: Math.floor(clock / 1000) }),
    });
    const other = await shared(ORG, 'cloud_aws');
    // An org-a admin cannot discard org-demo's session, whatever org it names.
    for (const org_id of [ORG, 'org-a']) {
      const refused = await scoped.cloudOnboarding.discard
        .mutate({ session_id: other.session_id, org_id, kind: 'cloud_aws' })
        .catch((e) => e);
      expect(refused.data.app_code).toBe('not_found');
    }
    expect((await anon.handoff.get.query({ token: other.token })).kind).toBe('cloud_aws');
    // Naming another kind is refused too, and changes nothing.
    const wrongKind = await scoped.cloudOnboarding.discard
      .mutate({ session_id, org_id: 'org-a', kind: 'cloud_gcp' })
      .catch((e) => e);
    expect(wrongKind.data.app_code).toBe('not_found');

    const done = await scoped.cloudOnboarding.discard.mutate({ session_id, org_id: 'org-a', kind: 'cloud_aws' });
    expect(done).toMatchObject({ session_id, revoked: [link.share_id] });
    await expect(anon.handoff.get.query({ token })).rejects.toMatchObject(gone);
    expect((await admin.cloudOnboarding.list.query({ org_id: 'org-a' })).sessions).toEqual([]);
    const again = await admin.cloudOnboarding.get.query({ session_id }).catch((e) => e);
    expect(again.data.app_code).toBe('not_found');
    const rows = await listAudit(h.store.db, { runId: done.audit_run_id }, { limit: 5 });
    expect(rows.map((r) => [r.action, r.orgId, r.outcome])).toEqual(
      expect.arrayContaining([['cloudOnboarding.discard', 'org-a', 'success']]),
    );
    const denied = await listAudit(h.store.db, { action: 'cloudOnboarding.discard', outcome: 'denied' }, { limit: 5 });
    expect(denied.length).toBeGreaterThan(0);
  });

  it('org-a’s link reveals nothing of org-b; the Cloudflare token is sealed; tokens are never stored in clear', async () => {
    const a = await shared('org-a', 'cloud_cloudflare');
    const b = await shared('org-b', 'cloud_cloudflare');
    const canary = `cf_canary_${'9'.repeat(24)}`;
    await anon.handoff.submit
      .mutate({ token: b.token, params: { ...up.demo.cloud_cloudflare, api_token: canary } })
      .catch(() => null);
    const seen = JSON.stringify(await anon.handoff.get.query({ token: a.token }));
    expect(seen).not.toContain('org-b');
    expect(seen).not.toContain(b.session_id);
    expect(seen).not.toContain(b.link.share_id);
    expect(JSON.stringify(await anon.handoff.get.query({ token: b.token }))).not.toContain(canary);

    const db = await storedText(h.store, h.database.config);
    for (const token of [a.token, b.token, canary]) expect(db.includes(token)).toBe(false);
    expect(db).toContain(a.link.share_id);
  });
});
