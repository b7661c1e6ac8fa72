import { Writable } from 'node:stream';
import { isoNow, type Store, sealSecret, sql, upsertLink } from '@alphaswarm/db';
import { DEFAULT_UPSTREAMS, type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { createRuntime, type Runtime } from '../src/runtime';
import { type Sweeper, startSweeper } from '../src/services/sweep-jobs';
import { dialect } from './support/database';
import { type Harness, startHarness } from './support/harness';

const LINKS = 24;
const INTERVAL_MS = 60_000;

/**
 * Two replicas' sweepers (two runtimes, each with its own pool and its own Hugging Face fake, so
 * that who probed what can be told apart) on one PostgreSQL database. Their clock is the test's:
 * a slot begins when the test moves it on by an interval.
 */
describe.runIf(dialect === 'postgres')('health sweep on pg-boss, two replicas', () => {
  let h: Harness;
  let store2: Store;
  const fakes: HuggingFaceFake[] = [];
  const runtimes: Runtime[] = [];
  const sweepers: Sweeper[] = [];
  const logs: string[] = [];
  let clock = Math.ceil(Date.now() / INTERVAL_MS) * INTERVAL_MS + 1_000;
  const now = () => new Date(clock);

  const tokenOf = (i: number) => `hf_sweep_${String(i).padStart(2, '0')}`;
  /** Probes per link, across both replicas' fakes. */
  const probes = () => {
    const counts = new Map<string, number>();
    for (const fake of fakes)
      for (const r of fake.requests) {
        const token = String(r.headers.authorization ?? '').replace(/^Bearer /, '');
        counts.set(token, (counts.get(token) ?? 0) + 1);
      }
    return counts;
  };
  const finished = () => logs.filter((line) => line.includes('"health sweep finished"'));
  const until = async (what: () => boolean | Promise<boolean>, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    fakes.push(await startHuggingFaceFake(), await startHuggingFaceFake());
    h = await startHarness({
      upstreams: { huggingfaceEndpoint: fakes[0]!.url },
      env: { ALPHASWARM_ADMIN_HEALTH_INTERVAL: String(INTERVAL_MS / 1000), ALPHASWARM_ADMIN_HEALTH_CONCURRENCY: '2' },
      now,
    });
    for (let i = 0; i < LINKS; i++) {
      for (const fake of fakes) fake.addToken(tokenOf(i), hfProfile({ name: 'alice', role: 'read' }));
      await upsertLink(
        h.store.db,
        {
          orgId: `org-${i}`,
          kind: 'huggingface',
          namespace: 'alice',
          status: 'healthy',
          error: null,
          metadata: {},
          secret: sealSecret(h.keyring, { token: tokenOf(i) }),
          expiresAt: null,
        },
        isoNow(now()),
      );
    }
    store2 = await h.database.open();
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    });
    for (const [i, store] of [h.store, store2].entries()) {
      runtimes.push(
        createRuntime({
          env: h.rt.env,
          store,
          keyring: h.keyring,
          ephemeralKey: false,
          logger: createLogger('info', sink),
          upstreams: { ...DEFAULT_UPSTREAMS, huggingfaceEndpoint: fakes[i]!.url },
          now,
        }),
      );
    }
    // Both start together on a database that has never seen pg-boss: one creates its schema.
    sweepers.push(
      ...(await Promise.all(
        runtimes.map((rt) =>
          startSweeper(rt, { jobs: { batchLinks: 4, expirySeconds: 5, pollSeconds: 0.5, offerEveryMs: 50 } }),
        ),
      )),
    );
  });
  afterAll(async () => {
    for (const s of sweepers) await s.stop();
    for (const rt of runtimes) await rt.http.close();
    await store2?.close();
    await h?.close();
    for (const fake of fakes) await fake.close();
  });

  it('probes every link exactly once per interval, prunes and records the sweep once', async () => {
    const old = isoNow(new Date(clock - 200 * 86_400_000));
    await h.store.exec(
      sql`INSERT INTO health_history (credential_key, org_id, kind, at, source, result, latency_ms) VALUES ('org-0/huggingface', 'org-0', 'huggingface', ${old}, 'sweep', 'healthy', 5)`,
    );
    clock += INTERVAL_MS;
    await until(() => finished().length === 1);
    const counts = probes();
    expect(counts.size).toBe(LINKS);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const report = JSON.parse(finished()[0]!).sweep;
    expect(report).toMatchObject({ checked: LINKS, failed: 0, pruned: 1, batches: LINKS / 4 });
    // The sweep is recorded by the replica that finished it, once.
    const success = await Promise.all(
      runtimes.map(
        async (rt) =>
          (await rt.metrics.registry.getSingleMetric('alphaswarm_sweep_last_success_timestamp_seconds')?.get())
            ?.values[0]?.value,
      ),
    );
    expect(success.filter((v) => v === Math.floor(clock / 1000))).toHaveLength(1);
    // Within the slot, nothing more happens however long the replicas keep polling.
    await new Promise((r) => setTimeout(r, 600));
    expect(finished()).toHaveLength(1);
    expect([...probes().values()].reduce((a, b) => a + b)).toBe(LINKS);
  });

  it('a replica stopped mid-sweep leaves its batches to the other, which finishes the slot', async () => {
    const before = probes();
    const [a, b] = fakes as [HuggingFaceFake, HuggingFaceFake];
    const aBefore = a.requests.length;
    // Both answer slowly enough that the sweep takes seconds: otherwise the survivor can take every
    // batch before the other replica polls, and there is nothing to take over.
    a.knobs.delayMs = 400;
    b.knobs.delayMs = 150;
    clock += INTERVAL_MS;
    const slotStart = isoNow(new Date(Math.floor(clock / INTERVAL_MS) * INTERVAL_MS));
    await until(() => a.requests.length > aBefore);
    await sweepers[0]!.stop();
    // A batch the stopped replica still held comes back when it fails (at once) or, at worst, when
    // it expires (5 s here) and the survivor's maintenance (every 3 s) notices; the finish job then
    // retries each second. So the bound is about 10 s past the stop, more on a busy machine.
    await until(() => finished().length === 2, 25_000);
    const rows = await h.store.exec(sql`SELECT count(*) AS n FROM integrations WHERE last_health_at >= ${slotStart}`);
    expect(Number(rows[0]!.n)).toBe(LINKS);
    const counts = probes();
    const thisSlot = [...counts].map(([token, n]) => n - (before.get(token) ?? 0));
    expect(thisSlot.every((n) => n >= 1)).toBe(true);
    // Only probes cut short by the stop (at most the concurrency) are repeated.
    expect(thisSlot.reduce((x, y) => x + y)).toBeLessThanOrEqual(LINKS + 2);
    expect(b.requests.length).toBeGreaterThan(LINKS / 2);
    expect(JSON.parse(finished()[1]!).sweep.checked).toBeGreaterThanOrEqual(LINKS - 2);
  }, 40_000);
});
