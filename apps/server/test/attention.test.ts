import { createAdminClient } from '@alphaswarm/api/client';
import type { IntegrationKind, IntegrationStatus } from '@alphaswarm/contracts';
import { isoNow, listAudit, sealSecret, upsertLink } from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness';

const DAY = 86_400_000;

describe('what needs attention: orgs sorted and filtered, the platform summary, bulk re-check', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    hf.addToken('hf_fine', hfProfile({ name: 'alice', role: 'read' }));
    h = await startHarness({ upstreams: { huggingfaceEndpoint: hf.url } });
    const link = (org: string, kind: IntegrationKind, status: IntegrationStatus, expiresInDays: number | null) =>
      upsertLink(
        h.store.db,
        {
          orgId: org,
          kind,
          namespace: 'alice',
          status,
          error: null,
          metadata: {},
          secret: sealSecret(
            h.keyring,
            kind === 'huggingface' ? { token: 'hf_fine' } : { api_token: 'x', token_id: 't' },
          ),
          expiresAt: expiresInDays === null ? null : new Date(Date.now() + expiresInDays * DAY).toISOString(),
        },
        isoNow(new Date()),
      );
    await link('a-fine', 'huggingface', 'healthy', null);
    await link('b-expiring-later', 'cloud_cloudflare', 'degraded', 10);
    await link('c-expiring-soon', 'cloud_cloudflare', 'degraded', 3);
    await link('d-broken', 'huggingface', 'needs_reconnect', null);
    await link('d-broken', 'cloud_cloudflare', 'healthy', 60);
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  it('sorts by attention, filters by status and kind, summarises the platform', async () => {
    const api = createAdminClient({ url: h.url, token: () => h.token() });
    const byAttention = await api.integrations.orgs.query({ sort: 'attention', limit: 2 });
    expect(byAttention.orgs.map((o) => o.org_id)).toEqual(['d-broken', 'c-expiring-soon']);
    expect(byAttention.orgs[0]).toMatchObject({
      total: 2,
      by_status: { needs_reconnect: 1, healthy: 1 },
      kinds: ['cloud_cloudflare', 'huggingface'],
    });
    const page2 = await api.integrations.orgs.query({ sort: 'attention', limit: 2, cursor: byAttention.next_cursor });
    expect(page2.orgs.map((o) => o.org_id)).toEqual(['b-expiring-later', 'a-fine']);

    const degraded = await api.integrations.orgs.query({ status: 'degraded' });
    expect(degraded.orgs.map((o) => o.org_id)).toEqual(['b-expiring-later', 'c-expiring-soon']);
    const attention = await api.integrations.orgs.query({ status: 'attention', kind: 'huggingface' });
    expect(attention.orgs.map((o) => o.org_id)).toEqual(['d-broken']);

    const summary = await api.integrations.attention.query({ limit: 10 });
    expect(summary.by_status).toEqual({ healthy: 2, degraded: 2, needs_reconnect: 1 });
    expect(summary.by_kind.cloud_cloudflare).toEqual({ healthy: 1, degraded: 2 });
    expect(summary.links.map((l) => l.org_id)).toEqual(['d-broken', 'c-expiring-soon', 'b-expiring-later']);
    expect(summary.orgs).toBeNull();
    expect(JSON.stringify(summary)).not.toContain('hf_fine');
  });

  it('re-checks every link of an org in one audited, step-up gated call', async () => {
    const api = createAdminClient({ url: h.url, token: () => h.token() });
    const seen = hf.requests.length;
    const r = await api.integrations.checkHealthMany.mutate({ org_id: 'a-fine' });
    expect(r).toMatchObject({ checked: 1, failed: 0, by_status: { healthy: 1 }, more: false });
    expect(hf.requests.length - seen).toBe(1);
    const audit = await listAudit(h.store.db, { action: 'integrations.checkHealthMany' }, { limit: 10 });
    expect(audit.map((e) => [e.phase, e.outcome, e.orgId])).toEqual([
      ['outcome', 'success', 'a-fine'],
      ['attempt', 'started', 'a-fine'],
    ]);
    const stale = createAdminClient({
      url: h.url,
      token: () => h.token({ auth_time: Math.floor(Date.now() / 1000) - 3600 }),
    });
    await expect(stale.integrations.checkHealthMany.mutate({})).rejects.toMatchObject({
      data: { app_code: 'insufficient_user_authentication' },
    });
  });

  it('an admin of some orgs gets the summary of those only, and re-checks org by org', async () => {
    const api = createAdminClient({
      url: h.url,
      token: () => h.token({ scope: 'admin:org:d-broken admin:org:a-fine' }),
    });
    const summary = await api.integrations.attention.query({ limit: 10 });
    expect(summary.orgs).toEqual(['d-broken', 'a-fine']);
    expect(summary.by_status).toEqual({ healthy: 2, needs_reconnect: 1 });
    expect(summary.by_kind).toEqual({
      huggingface: { healthy: 1, needs_reconnect: 1 },
      cloud_cloudflare: { healthy: 1 },
    });
    expect(summary.links.map((l) => [l.org_id, l.kind])).toEqual([['d-broken', 'huggingface']]);
    // Every link needing attention is a platform-wide reach; one org's links are the caller's.
    await expect(api.integrations.checkHealthMany.mutate({})).rejects.toMatchObject({
      data: { app_code: 'insufficient_scope' },
    });
    expect(await api.integrations.checkHealthMany.mutate({ org_id: 'a-fine' })).toMatchObject({ checked: 1 });
  });
});
