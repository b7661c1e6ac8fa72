import { type VerdictWriter, verdictWriter } from '@alphaswarm/api';
import {
  createWizardSession,
  getLink,
  getWizardSession,
  isoNow,
  sealSecret,
  sql,
  updateWizardState,
  upsertLink,
} from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHealthSweep, Slots, startHealthSweeper } from '../src/services/sweep';
import { type Harness, startHarness } from './support/harness';

describe('health sweep', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  /** The runtime's clock: real time plus whatever the injected sleeps have "waited". */
  let skipped = 0;
  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    h = await startHarness({ upstreams: { huggingfaceEndpoint: hf.url }, now: () => new Date(Date.now() + skipped) });
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  async function seed(org: string, token: string) {
    await upsertLink(
      h.store.db,
      {
        orgId: org,
        kind: 'huggingface',
        namespace: 'alice',
        status: 'healthy',
        error: null,
        metadata: {},
        secret: sealSecret(h.keyring, { token }),
        expiresAt: null,
      },
      isoNow(new Date()),
    );
  }

  const links = () => h.store.exec(sql`select org_id, status, error, updated_at from integrations order by org_id`);

  it('re-checks every link with bounded concurrency and records each verdict', async () => {
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString();
    hf.addToken('hf_good', hfProfile({ name: 'alice', role: 'read' }));
    hf.addToken('hf_expiring', hfProfile({ name: 'alice', role: 'read', expiration: soon }));
    for (let i = 0; i < 30; i++) await seed(`org-s${i}`, i === 0 ? 'hf_expiring' : i === 1 ? 'hf_revoked' : 'hf_good');
    const seen = hf.requests.length;
    const progress: number[] = [];
    const report = await runHealthSweep(h.rt, { concurrency: 4, onProgress: (n) => progress.push(n) });
    expect(report.checked).toBe(30);
    // Each link probed exactly once, even with four workers paging the table together.
    expect(hf.requests.length - seen).toBe(30);
    expect(progress.at(-1)).toBe(30);
    expect(report.by_status).toEqual({ healthy: 28, degraded: 1, unhealthy: 1 });
    const expiring = (await getLink(h.store.db, 'org-s0', 'huggingface'))!;
    expect(expiring.status).toBe('degraded');
    expect(expiring.error?.message).toMatch(/expires/);
    const revoked = (await getLink(h.store.db, 'org-s1', 'huggingface'))!;
    expect(revoked.status).toBe('unhealthy');
    expect(revoked.error?.code).toBe('credential_rejected');
  });

  it('honours 429 Retry-After: pauses that upstream, then retries the throttled link once', async () => {
    hf.knobs.rateLimit = { retryAfterSeconds: 7 };
    const slept: number[] = [];
    const report = await runHealthSweep(h.rt, {
      concurrency: 2,
      sleep: async (ms) => {
        slept.push(ms);
        skipped += ms;
        hf.knobs.rateLimit = null;
      },
    });
    expect(report.deferred).toBeGreaterThan(0);
    // Every later probe of Hugging Face waited out the 7 s it asked for, on the runtime's clock.
    expect(slept.length).toBeGreaterThan(0);
    expect(Math.max(...slept)).toBeGreaterThan(6_000);
    expect(Math.max(...slept)).toBeLessThanOrEqual(7_000);
    expect(report.checked).toBe(30);
    expect(report.by_status.healthy).toBe(28);
  });

  it('an abort ends a sweep waiting out a Retry-After at once', async () => {
    hf.knobs.rateLimit = { retryAfterSeconds: 3600 };
    const controller = new AbortController();
    const seen = hf.requests.length;
    try {
      const sweep = runHealthSweep(h.rt, { concurrency: 1, signal: controller.signal });
      while (hf.requests.length === seen) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      controller.abort();
      const report = await sweep;
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(report.deferred).toBe(1);
      expect(report.checked).toBe(0);
    } finally {
      hf.knobs.rateLimit = null;
    }
  });

  it('stopping the sweeper mid-probe ends it at once and records no verdict for the cut-off probes', async () => {
    const before = await links();
    hf.knobs.delayMs = 60_000;
    const seen = hf.requests.length;
    const sweeper = startHealthSweeper(
      { ...h.rt, env: { ...h.rt.env, ALPHASWARM_ADMIN_HEALTH_INTERVAL: 3600 } },
      { intervalMs: 10 },
    );
    try {
      while (hf.requests.length === seen) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      await sweeper.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await links()).toEqual(before);
    } finally {
      hf.knobs.delayMs = 0;
    }
  });

  it('a transient upstream failure degrades, it does not condemn', async () => {
    hf.knobs.status = 503;
    try {
      await runHealthSweep(h.rt, { concurrency: 8 });
    } finally {
      hf.knobs.status = null;
    }
    const row = (await getLink(h.store.db, 'org-s5', 'huggingface'))!;
    expect(row.status).toBe('degraded');
    expect(row.error).toMatchObject({ code: 'upstream_unavailable' });
  });

  it('writes one history row per probe; a verdict that cannot be written costs only itself', async () => {
    const count = async (query: ReturnType<typeof sql>) => Number((await h.store.exec(query))[0]!.n);
    const history = () => count(sql`SELECT count(*) AS n FROM health_history WHERE source = 'sweep'`);
    const before = await history();
    const report = await runHealthSweep(h.rt, { concurrency: 8 });
    expect(report.checked).toBe(await count(sql`SELECT count(*) AS n FROM integrations`));
    expect(await history()).toBe(before + report.checked);
    // Verdicts that arrive together are committed together; when that fails, each is tried alone.
    const writer = verdictWriter(h.store.db);
    const verdict = (org: string, source = 'sweep') => ({
      credentialKey: `huggingface:org:${org}`,
      result: {
        status: 'unhealthy' as const,
        error: { code: 'credential_rejected', message: 'no' },
        metadata: {},
        expiresAt: null,
      },
      now: isoNow(h.rt.now()),
      history: { source, latencyMs: 1 },
    });
    const outcomes = await Promise.allSettled([
      writer.record(verdict('org-s2')),
      writer.record(verdict('org-s3', null as unknown as string)),
      writer.record(verdict('org-s4')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const status = async (org: string) => (await getLink(h.store.db, org, 'huggingface'))?.status;
    expect([await status('org-s2'), await status('org-s3'), await status('org-s4')]).toEqual([
      'unhealthy',
      'healthy',
      'unhealthy',
    ]);
  });

  it('starts the next probe once the upstream has answered, while the verdict is still being committed', async () => {
    const count = async (query: ReturnType<typeof sql>) => Number((await h.store.exec(query))[0]!.n);
    hf.addToken('hf_good', hfProfile({ name: 'alice', role: 'read' }));
    for (let i = 0; i < 6; i++) await seed(`org-p${i}`, 'hf_good');
    const links = await count(sql`SELECT count(*) AS n FROM integrations`);
    const history = await count(sql`SELECT count(*) AS n FROM health_history WHERE source = 'sweep'`);
    const seen = hf.requests.length;
    // No commit goes through until every link's upstream has answered: with two probes at once and
    // more links than that, the sweep ends only if a pending commit does not hold a probe's slot.
    const real = verdictWriter(h.store.db);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const writer: VerdictWriter = {
      async record(verdict) {
        if (hf.requests.length - seen === links) open();
        await gate;
        return real.record(verdict);
      },
    };
    const report = await runHealthSweep(h.rt, { concurrency: 2, writer });
    expect(report.checked).toBe(links);
    expect(hf.requests.length - seen).toBe(links);
    // Every verdict was committed before the sweep reported its end.
    expect(await count(sql`SELECT count(*) AS n FROM health_history WHERE source = 'sweep'`)).toBe(history + links);
  });

  it('deletes expired onboarding sessions and the secrets they sealed, also when link checks are off', async () => {
    const now = h.rt.now().getTime();
    const session = (orgId: string, expiresInMs: number) =>
      createWizardSession(
        h.store.db,
        { orgId, kind: 'cloud_cloudflare', createdBy: 'alice', expiresAt: isoNow(new Date(now + expiresInMs)) },
        isoNow(new Date(now - 86_400_000)),
      );
    const expired = await session('org-w1', -1_000);
    await updateWizardState(
      h.store.db,
      expired,
      { params: { api_token: { sealed: sealSecret(h.keyring, 'cf_token') } } },
      isoNow(new Date(now - 86_400_000)),
    );
    const live = await session('org-w2', 3_600_000);
    expect(h.rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL).toBe(0);
    const seen = hf.requests.length;
    const sweeper = startHealthSweeper(h.rt, { intervalMs: 10 });
    try {
      while (await getWizardSession(h.store.db, expired.id)) await new Promise((r) => setTimeout(r, 5));
    } finally {
      await sweeper.stop();
    }
    expect(await getWizardSession(h.store.db, live.id)).toBeDefined();
    expect(hf.requests.length).toBe(seen);
    expect(h.logs.some((l) => /"purged":1\b.*expired onboarding sessions deleted/.test(l))).toBe(true);
  });
});

describe('probe slots shared by the batches of a replica', () => {
  it('serve the older batch first, so that it ends and the next one is fetched', async () => {
    const slots = new Slots(1);
    const older = slots.nextRank();
    const younger = slots.nextRank();
    await slots.acquire(older);
    const order: string[] = [];
    const youngerTakes = slots.acquire(younger).then(() => order.push('younger'));
    const olderTakes = slots.acquire(older).then(() => order.push('older'));
    slots.release();
    await olderTakes;
    slots.release();
    await youngerTakes;
    expect(order).toEqual(['older', 'younger']);
  });
});
