import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey } from '@alphaswarm/db';
import {
  generateTestCertificate,
  type HuggingFaceFake,
  hfProfile,
  startHuggingFaceFake,
  type TestTlsMaterial,
} from '@alphaswarm/providers/fakes';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../src/audit/delivery';
import { httpsReceiver, otlpReceiver, type Receiver, syslogReceiver } from '../src/audit/receivers';
import { startAuditStreaming } from '../src/audit/stream';
import { sinksFromEnv } from '../src/runtime/audit-keys';
import { readiness } from '../src/runtime/readiness';
import { call, type Harness, startHarness } from './support/harness';

/** Time the delivery loops see: moves only when the test says, so a minute passes instantly. */
class ManualClock implements Clock {
  private timers: { at: number; done: () => void }[] = [];
  constructor(private t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      // As the system clock: an abort that came first ends the sleep at once (no event will fire).
      if (signal?.aborted) return resolve();
      const timer = { at: this.t + ms, done: resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.done();
  }
}

/**
 * Poll `check` until it holds. A loop that went back to sleep just after the clock last moved (its
 * ack still committing then) would sleep until the next move: between polls the clock moves one
 * poll interval, as real time would.
 */
function settle(clock: ManualClock, check: () => void): Promise<void> {
  return vi.waitFor(() => {
    try {
      check();
    } catch (error) {
      clock.advance(1_000);
      throw error;
    }
  }, POLL);
}

const ORG = '/admin/accounts/org-acme/integrations';
/** The delivery loops run beside the test on a shared machine: poll their effect, don't sleep. */
const POLL = { timeout: 15_000, interval: 10 };
const TOKEN = 'CANARY-sink-bearer-5d1e';
let tls: TestTlsMaterial;
let hf: HuggingFaceFake;
let receivers: { https: Receiver; syslog: Receiver; otlp: Receiver };
let h: Harness;

beforeAll(async () => {
  tls = await generateTestCertificate();
  hf = await startHuggingFaceFake();
  hf.addToken('hf_read_token_alpha', hfProfile({ name: 'alice', orgs: ['acme-quant'], role: 'read' }));
});
afterAll(async () => {
  await hf.close();
});

async function start(): Promise<void> {
  receivers = {
    https: await httpsReceiver({ tls, bearer: TOKEN }),
    syslog: await syslogReceiver({ tls }),
    otlp: await otlpReceiver({ tls }),
  };
  const dir = join(await import('node:os').then((os) => os.tmpdir()), `audit-ca-${process.pid}-${Date.now()}.pem`);
  writeFileSync(dir, tls.cert);
  h = await startHarness({
    upstreams: { huggingfaceEndpoint: hf.url },
    env: {
      ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
      ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_URL: receivers.https.url,
      ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_TOKEN: TOKEN,
      ALPHASWARM_ADMIN_AUDIT_SINK_SYSLOG_URL: receivers.syslog.url,
      ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL: receivers.otlp.url,
      ALPHASWARM_ADMIN_AUDIT_SINK_CA_FILE: dir,
    },
  });
}

afterEach(async () => {
  await h.rt.auditStream?.stop();
  await h.close();
  await Promise.all(Object.values(receivers).map((r) => r.close()));
});

const seqs = (r: Receiver) => r.received.map((x) => x.seq);

async function connect(): Promise<void> {
  const res = await call(h, 'POST', `${ORG}/huggingface`, {
    body: { token: 'hf_read_token_alpha', namespace: 'acme-quant' },
  });
  expect(res.status).toBe(200);
}

/** An audited mutation with no upstream: attempt, then a not_found outcome. */
async function disconnectAbsent(): Promise<void> {
  const res = await call(h, 'DELETE', `${ORG}/docker_hub`);
  expect(res.status).toBe(404);
}

describe('audit streaming from the outbox', () => {
  it('delivers each event once, in order, to every sink; a loop dropped mid-batch and a restart lose and repeat nothing', async () => {
    await start();
    for (let i = 0; i < 2; i++) await connect();
    const clock = new ManualClock(Date.now());
    receivers.https.hang(true);
    const first = startAuditStreaming(h.rt, { clock, owner: 'process-a', batchSize: 3, leaseMs: 60_000 })!;
    await vi.waitFor(() => {
      expect(seqs(receivers.syslog)).toEqual([1, 2, 3, 4]);
      expect(seqs(receivers.otlp)).toEqual([1, 2, 3, 4]);
    }, POLL);
    await vi.waitFor(async () => {
      const lag = await first.lag();
      expect(lag.filter((l) => l.pending === 0).map((l) => l.sink)).toEqual(['syslog', 'otlp']);
    }, POLL);
    // The HTTPS receiver holds the first batch unanswered: the process dies mid-batch (its lease stays).
    await first.stop({ release: false });
    receivers.https.hang(false);
    // Events written while no process streams wait in the outbox.
    await connect();

    clock.advance(61_000);
    // The restarted process builds its own sinks.
    const sinks = sinksFromEnv(h.rt.env, () => new Date());
    const second = startAuditStreaming(h.rt, { sinks, clock, owner: 'process-b', batchSize: 3, leaseMs: 60_000 })!;
    await vi.waitFor(() => {
      for (const r of Object.values(receivers)) expect(seqs(r)).toEqual([1, 2, 3, 4, 5, 6]);
    }, POLL);
    expect(receivers.https.received[0]).toMatchObject({ seq: 1, action: 'integrations.connect.huggingface' });
    await vi.waitFor(async () => {
      expect((await second.lag()).map((l) => [l.sink, l.pending, l.attempts])).toEqual([
        ['https', 0, 0],
        ['syslog', 0, 0],
        ['otlp', 0, 0],
      ]);
    }, POLL);
    expect(h.logs.join('\n')).not.toContain(TOKEN);
  });

  it('a stop while the loops claim sends nothing more and returns at once, a sink hanging; the batch stays in the outbox', async () => {
    await start();
    await connect();
    receivers.https.hang(true);
    const clock = new ManualClock(Date.now());
    // Each loop runs up to its first query as it starts: all three are inside their claim now.
    const stream = startAuditStreaming(h.rt, { clock, owner: 'a' })!;
    await stream.stop();
    // Stopped for good: a second stop (afterEach's, a second signal) closes nothing twice.
    await stream.stop();
    expect(Object.values(receivers).map((r) => r.received.length + r.holding())).toEqual([0, 0, 0]);
    expect((await stream.lag()).map((l) => [l.sink, l.pending])).toEqual([
      ['https', 2],
      ['syslog', 2],
      ['otlp', 2],
    ]);
  });

  it('a sink hanging for a minute delays no API call, and shows on /readyz as degraded, not failed', async () => {
    await start();
    const clock = new ManualClock(Date.now());
    startAuditStreaming(h.rt, { clock, owner: 'a', sendTimeoutMs: 30_000, leaseMs: 60_000 });
    // Audited calls while the HTTPS sink holds a delivery unanswered. The delivery's clock moves
    // only between calls, so a call that waited on the sink would never return: each one returning
    // while the sink still holds the delivery is the proof that the hang costs the calls nothing.
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await disconnectAbsent();
        clock.advance(7_000);
      }
    };
    await connect();
    await run(9);
    await settle(clock, () => expect(receivers.https.received.length).toBe(2 + 18));
    receivers.https.hang(true);
    await run(1);
    await settle(clock, () => expect(receivers.https.holding()).toBe(1));
    await run(8);
    expect(receivers.https.holding()).toBeGreaterThanOrEqual(1);
    expect(receivers.https.received).toHaveLength(20);
    await settle(clock, () => expect(seqs(receivers.syslog)).toHaveLength(38));

    const [status, body] = await readiness(h.rt);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks).toMatchObject({ database: true, writable: true, audit_sinks: false });
    expect(body.audit_sinks?.find((s) => s.sink === 'https')).toMatchObject({ pending: 18 });
    expect(body.audit_sinks?.find((s) => s.sink === 'syslog')).toMatchObject({ pending: 0, attempts: 0 });
  });
});
