import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminClient } from '@alphaswarm/api/client';
import { generateKey, listAlertDeliveries, listAudit, redeliverAlert, sql } from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY, deliverDueAlerts, pruneHistory } from '../src/services/alerts';
import { runHealthSweep } from '../src/services/sweep';
import { cliInProcess } from './run-cli';
import { allowAuditUpdates } from './support/database';
import { type Harness, startHarness } from './support/harness';

const CANARY = 'hf_CANARY_alerts_5e1d77';
const EXPIRING = 'hf_CANARY_expiring_a9b0';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const DAY = 86_400_000;

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A loopback webhook receiver whose answer the test sets: a status, or hang (never answer). */
async function startReceiver() {
  const received: Received[] = [];
  const state = { mode: 200 as number | 'hang' };
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      if (state.mode === 'hang') hanging.push(res);
      else res.writeHead(state.mode).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    state,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('health history and alerts (real server, SQLite, HF fake, a real webhook receiver)', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  // Near the real time: receivers (the reference library too) refuse webhook timestamps far from their clock.
  let clock = Math.floor(Date.now() / 60_000) * 60_000;
  // The default delivery timeout: a loaded machine can take longer than a short one to answer on loopback.
  const policy = { ...DEFAULT_DELIVERY, baseBackoffMs: 60_000, retryWindowMs: 10 * 60_000 };

  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    hf.addToken(CANARY, hfProfile({ name: 'alice', role: 'read' }));
    hf.addToken(
      EXPIRING,
      hfProfile({ name: 'bob', role: 'read', expiration: new Date(clock + 10 * DAY + 3_600_000).toISOString() }),
    );
    receiver = await startReceiver();
    h = await startHarness({
      upstreams: { huggingfaceEndpoint: hf.url },
      now: () => new Date(clock),
      env: {
        ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL: receiver.url,
        ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: SECRET,
        ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS: '30',
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
    await receiver.close();
  });

  it('healthy → 401 → healthy: history rows, signed CloudEvents, one audit event each, gauges move', async () => {
    const api = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: Math.floor(clock / 1000) }) });
    await api.integrations.connect.huggingface.mutate({ org_id: 'org-flip', token: CANARY });
    hf.knobs.failWith401 = true;
    clock += 60_000;
    await api.integrations.checkHealth.mutate({ org_id: 'org-flip', kind: 'huggingface' });
    hf.knobs.failWith401 = false;
    clock += 60_000;
    await runHealthSweep(h.rt, { concurrency: 2 });

    const { history } = await api.integrations.history.query({ org_id: 'org-flip', kind: 'huggingface' });
    expect(history.map((r) => [r.source, r.result, r.error?.code ?? null])).toEqual([
      ['sweep', 'healthy', null],
      ['check', 'unhealthy', 'credential_rejected'],
      ['connect', 'healthy', null],
    ]);
    const page = await api.integrations.history.query({ org_id: 'org-flip', kind: 'huggingface', limit: 2 });
    const rest = await api.integrations.history.query({
      org_id: 'org-flip',
      kind: 'huggingface',
      cursor: page.next_cursor,
    });
    expect(rest.history.map((r) => r.source)).toEqual(['connect']);

    expect(await deliverDueAlerts(h.rt, policy)).toBe(2);
    const wh = new Webhook(SECRET);
    const events = receiver.received.map((r) => wh.verify(r.body, r.headers) as Record<string, any>);
    expect(events.map((e) => e.type)).toEqual([
      'com.alphaswarm.integration.unhealthy',
      'com.alphaswarm.integration.healthy',
    ]);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      subject: 'huggingface:org:org-flip',
      datacontenttype: 'application/json',
      data: { integration: { org_id: 'org-flip', status: 'unhealthy' }, change: { from: 'healthy', to: 'unhealthy' } },
    });
    expect(events[0]?.id).toBe(receiver.received[0]?.headers['webhook-id']);
    // A tampered body fails the reference verification.
    expect(() =>
      wh.verify(receiver.received[0]?.body.replace('org-flip', 'org-flop') ?? '', receiver.received[0]?.headers ?? {}),
    ).toThrow();

    const audit = await listAudit(h.store.db, { action: 'alert.fired' }, { limit: 10 });
    expect(audit.map((a) => a.detail.type)).toEqual([
      'com.alphaswarm.integration.healthy',
      'com.alphaswarm.integration.unhealthy',
    ]);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/alphaswarm_webhook_deliveries_total\{result="success"\} 2/);
    expect(metrics).toMatch(/alphaswarm_links\{kind="huggingface",status="healthy"\} 1/);

    const everything = [
      JSON.stringify(history),
      ...receiver.received.map((r) => r.body),
      JSON.stringify(audit),
      metrics,
      ...h.logs,
    ].join('\n');
    expect(everything).not.toContain(CANARY);
  });

  it('a receiver answering 500 gets retries with backoff, then a successful redelivery; a hanging one stalls nothing', async () => {
    const api = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: Math.floor(clock / 1000) }) });
    receiver.received.length = 0;
    receiver.state.mode = 500;
    clock += 60_000;
    hf.knobs.failWith401 = true;
    await api.integrations.checkHealth.mutate({ org_id: 'org-flip', kind: 'huggingface' });
    hf.knobs.failWith401 = false;

    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);
    // Not due again until the backoff has passed.
    expect(await deliverDueAlerts(h.rt, policy)).toBe(0);
    clock += 60_000;
    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);
    clock += 60_000;
    expect(await deliverDueAlerts(h.rt, policy)).toBe(0);
    clock += 60_000;
    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);
    let [row] = await listAlertDeliveries(h.store.db, { limit: 1 });
    expect(row).toMatchObject({ status: 'pending', attempts: 3, lastStatus: 500, lastError: 'http_500' });
    // Past the retry window: given up.
    clock += 10 * 60_000;
    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);
    [row] = await listAlertDeliveries(h.store.db, { limit: 1 });
    expect(row?.status).toBe('failed');
    expect(receiver.received.every((r) => r.headers['webhook-id'] === row?.id)).toBe(true);

    receiver.state.mode = 200;
    expect(await redeliverAlert(h.store.db, row?.id ?? '', new Date(clock).toISOString())).toBe(true);
    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);
    [row] = await listAlertDeliveries(h.store.db, { limit: 1 });
    expect(row).toMatchObject({ status: 'delivered', lastStatus: 200 });

    // A receiver that never answers: the sweep is not held up, and the delivery times out on its own.
    receiver.state.mode = 'hang';
    clock += 60_000;
    // The link was left unhealthy above: this sweep finds it healthy again, which raises an alert.
    await runHealthSweep(h.rt, { concurrency: 2 });
    const delivering = deliverDueAlerts(h.rt, { ...policy, timeoutMs: 2_000 });
    const first = await Promise.race([
      runHealthSweep(h.rt, { concurrency: 2 }).then(() => 'sweep'),
      delivering.then(() => 'delivery'),
    ]);
    expect(first).toBe('sweep');
    expect(await delivering).toBeGreaterThanOrEqual(1);
    const timedOut = await listAlertDeliveries(h.store.db, { limit: 2 });
    expect(timedOut.map((r) => r.lastError)).toContain('timeout');
  });

  it('the expiry countdown fires once per threshold, across restarts; history is pruned past retention', async () => {
    const api = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: Math.floor(clock / 1000) }) });
    const start = clock;
    await api.integrations.connect.huggingface.mutate({ org_id: 'org-expiry', token: EXPIRING });
    await api.integrations.checkHealth.mutate({ org_id: 'org-expiry', kind: 'huggingface' });
    // Marks live in the database: a second runtime on the same file (a restart) does not repeat them.
    const { createRuntime } = await import('../src/runtime');
    const restarted = createRuntime({
      env: h.rt.env,
      store: h.store,
      keyring: h.keyring,
      ephemeralKey: false,
      logger: h.rt.logger,
      upstreams: h.rt.upstreams,
      now: () => new Date(clock),
    });
    await runHealthSweep(restarted, { concurrency: 1 });
    clock = start + 4 * DAY;
    await runHealthSweep(restarted, { concurrency: 1 });
    await runHealthSweep(h.rt, { concurrency: 1 });
    clock = start + 9 * DAY + 7_200_000;
    await runHealthSweep(h.rt, { concurrency: 1 });
    const fired = (await listAudit(h.store.db, { action: 'alert.fired', orgId: 'org-expiry' }, { limit: 50 }))
      .filter((a) => a.detail.type === 'com.alphaswarm.integration.expiring')
      .map((a) => a.detail.threshold_days);
    // Seen first 10 days out: 14 (30 passed silently), then 7, then 1.
    expect(fired).toEqual([1, 7, 14]);

    clock = start + 40 * DAY;
    expect(await pruneHistory(h.rt)).toBeGreaterThan(0);
    const { history } = await api.integrations.history.query({ org_id: 'org-expiry', kind: 'huggingface' });
    expect(history).toEqual([]);
  });

  it('managed endpoints: secret shown once, test delivery, Slack formatting, event filter, step-up, audit', async () => {
    // Back to the real time (the test above moved 40 days on): receivers check webhook timestamps.
    clock = Math.floor(Date.now() / 60_000) * 60_000;
    const api = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: Math.floor(clock / 1000) }) });
    receiver.received.length = 0;
    receiver.state.mode = 200;
    const hook = await api.notifications.create.mutate({ name: 'ops', url: `${receiver.url}?ep=1` });
    expect(hook.secret).toMatch(/^whsec_/);
    const slack = await api.notifications.create.mutate({
      name: 'slack',
      type: 'slack',
      url: `${receiver.url}?slack=T000/B000/SLACKCANARY`,
      event_types: ['com.alphaswarm.integration.unhealthy'],
    });
    expect(slack.secret).toBeNull();
    const listed = await api.notifications.list.query();
    expect(listed.endpoints.map((e) => [e.name, e.type, e.host]).sort()).toEqual([
      ['ops', 'webhook', new URL(receiver.url).host],
      ['slack', 'slack', new URL(receiver.url).host],
    ]);
    expect(JSON.stringify(listed)).not.toContain('whsec_');
    expect(JSON.stringify(listed)).not.toContain('SLACKCANARY');

    const { delivery_id } = await api.notifications.test.mutate({ id: hook.endpoint.id });
    hf.knobs.failWith401 = true;
    clock += 60_000;
    await api.integrations.checkHealth.mutate({ org_id: 'org-flip', kind: 'huggingface' });
    hf.knobs.failWith401 = false;
    await deliverDueAlerts(h.rt, policy);
    const toHook = receiver.received.filter((r) => r.headers['webhook-id'] && r.body.includes('"specversion"'));
    const verified = toHook
      .filter((r) => {
        try {
          new Webhook(hook.secret ?? '').verify(r.body, r.headers);
          return true;
        } catch {
          return false;
        }
      })
      .map((r) => JSON.parse(r.body).type);
    expect(verified).toEqual(expect.arrayContaining(['com.alphaswarm.test', 'com.alphaswarm.integration.unhealthy']));
    const toSlack = receiver.received.filter((r) => !r.headers['webhook-id']).map((r) => JSON.parse(r.body));
    expect(toSlack).toHaveLength(1);
    expect(toSlack[0].text).toContain('integration unhealthy');
    expect(toSlack[0].text).toContain('huggingface:org:org-flip');

    const { deliveries } = await api.notifications.deliveries.query({ endpoint_id: hook.endpoint.id });
    expect(deliveries.find((d) => d.id === delivery_id)).toMatchObject({ status: 'delivered', last_status: 200 });
    await api.notifications.redeliver.mutate({ id: delivery_id });
    expect(await deliverDueAlerts(h.rt, policy)).toBe(1);

    const stale = createAdminClient({
      url: h.url,
      token: () => h.oidc.mint({ auth_time: Math.floor(clock / 1000) - 3600 }, { now: Math.floor(clock / 1000) }),
    });
    await expect(stale.notifications.delete.mutate({ id: slack.endpoint.id })).rejects.toMatchObject({
      data: { app_code: 'insufficient_user_authentication' },
    });
    await api.notifications.delete.mutate({ id: slack.endpoint.id });
    expect((await api.notifications.list.query()).endpoints).toHaveLength(1);
    const audit = await listAudit(h.store.db, {}, { limit: 200 });
    expect(audit.filter((a) => a.action === 'notifications.create' && a.phase === 'outcome')).toHaveLength(2);
    expect(audit.filter((a) => a.action === 'notifications.delete' && a.outcome === 'denied')).toHaveLength(1);
    const stored = [JSON.stringify(audit), ...h.logs].join('\n');
    expect(stored).not.toContain('SLACKCANARY');
    expect(stored).not.toContain(hook.secret);
  });

  it('an upstream unreachable for a whole interval alerts once per outage and on recovery; key rotations and a broken chain alert too', async () => {
    clock = Math.floor(Date.now() / 60_000) * 60_000;
    const api = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: Math.floor(clock / 1000) }) });
    receiver.received.length = 0;
    receiver.state.mode = 200;
    // Three sweeps that reach nothing: the first opens the outage, the second (a whole interval later) announces it, the third is quiet.
    hf.knobs.status = 503;
    for (let i = 0; i < 3; i++) {
      clock += 60_000;
      await runHealthSweep(h.rt, { concurrency: 2 });
    }
    hf.knobs.status = null;
    clock += 60_000;
    await runHealthSweep(h.rt, { concurrency: 2 });
    clock += 60_000;
    await runHealthSweep(h.rt, { concurrency: 2 });

    // The CLI's key rotations, against the server's database, with the same alert endpoint configured.
    const env = { ...h.database.env, ALPHASWARM_ENV: 'test', HOME: h.dir, ALPHASWARM_ADMIN_PUBLIC_URL: h.url };
    const alertEnv = {
      ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL: receiver.url,
      ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: SECRET,
    };
    const now = () => new Date(clock);
    const next = generateKey();
    const signing = await cliInProcess(['rotate-signing-key', '--issuer', 'admin'], {
      env: { ...env, ...alertEnv, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: h.key },
      cwd: h.dir,
      now,
    });
    expect(signing.code, signing.stderr).toBe(0);
    const rotated = await cliInProcess(['rotate-key'], {
      env: { ...env, ...alertEnv, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${next},${h.key}` },
      cwd: h.dir,
      now,
    });
    expect(rotated.code, rotated.stderr).toBe(0);

    // A rewritten row: the console's check and audit-verify each raise the failure.
    const restore = await allowAuditUpdates(h.store);
    await h.store.exec(sql`UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`);
    await restore();
    expect((await api.audit.verify.query()).ok).toBe(false);
    const verify = await cliInProcess(['audit-verify'], { env: { ...env, ...alertEnv }, cwd: h.dir, now });
    expect(verify.code).toBe(1);

    await deliverDueAlerts(h.rt, policy);
    const wh = new Webhook(SECRET);
    const events = receiver.received.flatMap((r) => {
      try {
        return [wh.verify(r.body, r.headers) as { type: string; data: Record<string, any> }];
      } catch {
        return [];
      }
    });
    const system = events.filter((e) => !e.type.startsWith('com.alphaswarm.integration.'));
    // Each once; alerts raised within the same instant by two processes are delivered in no set order.
    const named = (e: (typeof system)[number]) => `${e.type} ${e.data.kind ?? e.data.key ?? e.data.source}`;
    expect(system.map(named).sort()).toEqual(
      [
        'com.alphaswarm.upstream.unreachable huggingface',
        'com.alphaswarm.upstream.recovered huggingface',
        'com.alphaswarm.key.rotated signing',
        'com.alphaswarm.key.rotated integrations',
        'com.alphaswarm.audit.verify_failed audit.verify',
        'com.alphaswarm.audit.verify_failed audit-verify',
      ].sort(),
    );
    // The outage is announced before its recovery.
    expect(system.map((e) => e.type).filter((t) => t.startsWith('com.alphaswarm.upstream.'))).toEqual([
      'com.alphaswarm.upstream.unreachable',
      'com.alphaswarm.upstream.recovered',
    ]);
    expect(system.find((e) => e.type === 'com.alphaswarm.upstream.unreachable')?.data).toMatchObject({
      probes_failed: 2,
    });
    expect(
      system.find((e) => named(e) === 'com.alphaswarm.audit.verify_failed audit.verify')?.data.divergence,
    ).toMatchObject({ seq: 3, kind: 'rewritten' });
    const fired = await listAudit(h.store.db, { action: 'alert.fired' }, { limit: 50 });
    for (const e of system) expect(fired.some((a) => a.detail.type === e.type)).toBe(true);
    const bodies = [
      ...receiver.received.map((r) => r.body),
      JSON.stringify(fired),
      signing.stdout,
      rotated.stdout,
    ].join('\n');
    for (const secret of [CANARY, EXPIRING, h.key, next, SECRET]) expect(bodies).not.toContain(secret);
  });
});
