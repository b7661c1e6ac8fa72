import { getLink, isoNow, sealSecret, upsertLink } from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHealthSweep } from '../src/services/sweep';
import { type Harness, startHarness } from './support/harness';

describe('health sweep', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    h = await startHarness({ upstreams: { huggingfaceEndpoint: hf.url } });
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
    hf.knobs.rateLimit = { retryAfterSeconds: 1 };
    setTimeout(() => {
      hf.knobs.rateLimit = null;
    }, 300);
    const started = Date.now();
    const report = await runHealthSweep(h.rt, { concurrency: 2 });
    expect(report.deferred).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(report.checked).toBe(30);
    expect(report.by_status.healthy).toBe(28);
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
});
