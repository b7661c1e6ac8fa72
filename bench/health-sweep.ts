// Health sweep of 10,000 links against a fake upstream with 50 ms latency at concurrency 64:
// wall time vs the ideal 10,000 × 0.05 / 64 s. Target ratio ≤ 1.25. Prints, never asserts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, isoNow, Keyring, openStore, sealSecret, upsertLink } from '@alphaswarm/db';
import { hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { createLogger, createRuntime, parseEnv, runHealthSweep, upstreamsFromEnv } from '@alphaswarm/server';

const LINKS = Number(process.env.BENCH_LINKS ?? 10_000);
const LATENCY_MS = 50;
const CONCURRENCY = 64;

const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-bench-sweep-'));
const hf = await startHuggingFaceFake({ knobs: { delayMs: LATENCY_MS } });
hf.addToken('hf_bench_token', hfProfile({ name: 'bench', role: 'read' }));
const key = generateKey();
const keyring = Keyring.fromEnv(key);
const env = parseEnv({
  ALPHASWARM_ENV: 'test',
  ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'),
  ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
  HOME: dir,
});
const store = openStore(env.dbPath);
const secret = sealSecret(keyring, { token: 'hf_bench_token' });
const now = isoNow(new Date());
await store.db.write(async (tx) => {
  for (let i = 0; i < LINKS; i++) {
    await upsertLink(
      tx,
      {
        orgId: `org-${i}`,
        kind: 'huggingface',
        namespace: 'bench',
        status: 'healthy',
        error: null,
        metadata: {},
        secret,
        expiresAt: null,
      },
      now,
    );
  }
});
const rt = createRuntime({
  env,
  store,
  keyring,
  ephemeralKey: false,
  logger: createLogger('silent'),
  upstreams: { ...upstreamsFromEnv(env), huggingfaceEndpoint: hf.url },
});

const started = performance.now();
const report = await runHealthSweep(rt, { concurrency: CONCURRENCY });
const wall = (performance.now() - started) / 1000;
const ideal = (LINKS * (LATENCY_MS / 1000)) / CONCURRENCY;
const ratio = wall / ideal;
console.log(`bench/health-sweep — ${LINKS} links, ${LATENCY_MS} ms upstream latency, concurrency ${CONCURRENCY}`);
console.log(`  checked ${report.checked} (${JSON.stringify(report.by_status)}), failed ${report.failed}`);
console.log(
  `  wall ${wall.toFixed(2)} s   ideal ${ideal.toFixed(2)} s   ratio ${ratio.toFixed(2)}  target ≤ 1.25  ${ratio <= 1.25 ? 'MET' : 'NOT MET'}`,
);
await rt.http.close();
await hf.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
