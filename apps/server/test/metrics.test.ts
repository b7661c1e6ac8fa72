import { createAdminClient } from '@alphaswarm/api/client';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHealthSweep } from '../src/services/sweep';
import { type Harness, startHarness } from './support/harness';

const CANARY_TOKEN = 'hf_CANARY_metrics_7f3a9c';
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

/** `name{labels} value` lines of a Prometheus text scrape. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
      );
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });
}

describe('GET /metrics (prom-client, real server, HF fake)', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    hf.addToken(
      CANARY_TOKEN,
      hfProfile({ name: 'alice', role: 'read', expiration: new Date(Date.now() + 40 * 86_400_000).toISOString() }),
    );
    h = await startHarness({
      upstreams: { huggingfaceEndpoint: hf.url },
      env: { ALPHASWARM_ADMIN_METRICS_TOKEN: METRICS_TOKEN },
    });
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  const scrape = async () => {
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };
  const value = (text: string, name: string, labels: Record<string, string>) =>
    samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  it('needs the configured bearer token', async () => {
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(METRICS_TOKEN);
  });

  it('counts links, probes, upstream errors, expiry, sweeps, audit and HTTP per kind; every name alphaswarm_, no secret', async () => {
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    await client.integrations.connect.huggingface.mutate({ org_id: 'org-metrics', token: CANARY_TOKEN });
    let text = await scrape();
    expect(value(text, 'alphaswarm_links', { kind: 'huggingface', status: 'healthy' })).toBe(1);
    expect(value(text, 'alphaswarm_link_nearest_expiry_days', { kind: 'huggingface' })).toBeCloseTo(40, 0);

    hf.knobs.failWith401 = true;
    await client.integrations.checkHealth.mutate({ org_id: 'org-metrics', kind: 'huggingface' });
    hf.knobs.failWith401 = false;
    await runHealthSweep(h.rt, { concurrency: 2 });
    text = await scrape();
    // The 401 probe condemned the link; the sweep after it found it healthy again.
    expect(value(text, 'alphaswarm_probes_total', { kind: 'huggingface', result: 'unhealthy' })).toBe(1);
    expect(value(text, 'alphaswarm_probes_total', { kind: 'huggingface', result: 'healthy' })).toBe(1);
    expect(value(text, 'alphaswarm_upstream_errors_total', { kind: 'huggingface', code: 'credential_rejected' })).toBe(
      1,
    );
    expect(value(text, 'alphaswarm_links', { kind: 'huggingface', status: 'healthy' })).toBe(1);
    expect(value(text, 'alphaswarm_probe_duration_seconds_count', { kind: 'huggingface' })).toBe(2);
    expect(value(text, 'alphaswarm_sweep_last_success_timestamp_seconds', {})).toBeGreaterThan(1_700_000_000);
    expect(value(text, 'alphaswarm_audit_append_duration_seconds_count', {})).toBeGreaterThanOrEqual(4);
    expect(
      value(text, 'alphaswarm_http_requests_total', { route: '/trpc/integrations.checkHealth', status: '200' }),
    ).toBe(1);
    expect(value(text, 'alphaswarm_http_requests_total', { route: '/metrics', status: '401' })).toBe(2);

    // A path a caller typed never becomes a label: it is counted under its template.
    await fetch(`${h.url}/admin/accounts/org-${CANARY_TOKEN}/integrations`);
    await fetch(`${h.url}/x-${CANARY_TOKEN}`);
    text = await scrape();
    expect(value(text, 'alphaswarm_http_requests_total', { route: '/admin/accounts/:org_id/integrations' })).toBe(1);
    expect(value(text, 'alphaswarm_http_requests_total', { route: '(unmatched)', status: '404' })).toBe(1);

    const all = samples(text);
    expect(all.length).toBeGreaterThan(20);
    for (const s of all) expect(s.name).toMatch(/^alphaswarm_/);
    // Node's own GC histogram labels its series `kind` too (minor, major…), once a collection ran.
    const perKind = all.filter((x) => 'kind' in x.labels && !x.name.startsWith('alphaswarm_nodejs_gc_'));
    for (const s of perKind) expect(s.labels.kind).toBe('huggingface');
    expect(text).not.toContain(CANARY_TOKEN);
    expect(text).not.toContain('org-metrics');
  });
});
