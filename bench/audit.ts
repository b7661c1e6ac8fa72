// Audit trust, printed from one run: appends/s with the keyed chain vs the plain SHA-256 chain of
// before (target ratio >= 0.9), and what three configured sinks (HTTPS, syslog over TLS, OTLP)
// add to an audited connect over HTTP (target < 1 ms). Prints, never asserts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditKeyRing,
  appendAudit,
  generateKey,
  isoNow,
  Keyring,
  newRunId,
  openDatabase,
  type AuditKeyRing as Ring,
} from '@alphaswarm/db';
import { generateTestCertificate, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { createLogger, createRuntime, listen, parseEnv } from '@alphaswarm/server';
import { httpsReceiver, otlpReceiver, syslogReceiver } from '@alphaswarm/server/audit-receivers';
import { startAuditStreaming } from '@alphaswarm/server/audit-stream';
import { ADMIN_AUDIENCE } from '@alphaswarm/server/runtime';
import pino from 'pino';

const APPENDS = Number(process.env.BENCH_APPENDS ?? 3000);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function appendRate(ring: Ring | null): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-bench-audit-'));
  const store = await openDatabase({ dbPath: join(dir, 'admin.db') });
  try {
    const now = isoNow(new Date());
    const event = () => ({
      runId: newRunId(),
      actor: 'bench',
      action: 'integrations.list',
      phase: 'event' as const,
      outcome: 'success' as const,
      orgId: 'org-bench',
      detail: { n: 1 },
    });
    for (let i = 0; i < 200; i++) await appendAudit(store.db, event(), now, ring);
    const started = performance.now();
    for (let i = 0; i < APPENDS; i++) await appendAudit(store.db, event(), now, ring);
    return APPENDS / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ring = AuditKeyRing.fromEnv(generateKey());
const plain: number[] = [];
const keyed: number[] = [];
// Interleaved, so drift of a shared machine hits both alike.
for (let round = 0; round < 3; round++) {
  plain.push(await appendRate(null));
  keyed.push(await appendRate(ring));
}

async function connectLatency(sinks: boolean): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-bench-audit-'));
  const hf = await startHuggingFaceFake();
  hf.addToken('hf_bench', hfProfile({ name: 'bench', orgs: ['bench-org'], role: 'read' }));
  const tls = await generateTestCertificate();
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, tls.cert);
  const receivers = sinks
    ? [await httpsReceiver({ tls, bearer: 'bench' }), await syslogReceiver({ tls }), await otlpReceiver({ tls })]
    : [];
  const key = generateKey();
  const env = parseEnv({
    ALPHASWARM_ENV: 'test',
    ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'),
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
    ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
    ALPHASWARM_ADMIN_PORT: '0',
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    ALPHASWARM_ADMIN_HF_ENDPOINT: hf.url,
    HOME: dir,
    ...(sinks
      ? {
          ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_URL: receivers[0]!.url,
          ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_TOKEN: 'bench',
          ALPHASWARM_ADMIN_AUDIT_SINK_SYSLOG_URL: receivers[1]!.url,
          ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL: receivers[2]!.url,
          ALPHASWARM_ADMIN_AUDIT_SINK_CA_FILE: ca,
        }
      : {}),
  });
  const store = await openDatabase({ dbPath: env.dbPath });
  const rt = createRuntime({
    env,
    store,
    keyring: Keyring.fromEnv(key),
    ephemeralKey: false,
    logger: createLogger('info', pino.destination({ dest: join(dir, 'server.log'), sync: false })),
  });
  const stream = startAuditStreaming(rt);
  const server = await listen(rt, { port: 0 });
  const token = await rt.adminIssuer!.sign(
    {
      sub: 'bench',
      aud: ADMIN_AUDIENCE,
      scope: 'admin:cluster',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: Math.floor(Date.now() / 1000),
    },
    900,
  );
  const times: number[] = [];
  for (let i = 0; i < CONNECTS + 20; i++) {
    const started = performance.now();
    const res = await fetch(`${server.url}/admin/accounts/org-${i}/integrations/huggingface`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'hf_bench', namespace: 'bench-org' }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`connect answered ${res.status}`);
    if (i >= 20) times.push(performance.now() - started);
  }
  const delivered = receivers.map((r) => r.received.length);
  await stream?.stop();
  await server.close();
  await rt.http.close();
  await store.close();
  await hf.close();
  await Promise.all(receivers.map((r) => r.close()));
  rmSync(dir, { recursive: true, force: true });
  if (sinks) process.stderr.write(`(sinks received ${delivered.join(' / ')} records)\n`);
  return times;
}

// Interleaved rounds (none, sinks, none, sinks, …), each a fresh server: drift of a shared machine
// hits both alike, and one noisy round cannot decide the verdict (median of the rounds' medians).
const without: number[] = [];
const withSinks: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  without.push(median(await connectLatency(false)));
  withSinks.push(median(await connectLatency(true)));
}
const added = withSinks.map((w, i) => w - without[i]!);
const p = (n: number) => n.toFixed(2);
console.log(`audit appends/s, SQLite, ${APPENDS} per round, median of 3 interleaved rounds`);
console.log(`  plain SHA-256 chain   ${median(plain).toFixed(0)}`);
console.log(`  keyed HMAC chain      ${median(keyed).toFixed(0)}`);
console.log(`  ratio keyed/plain     ${(median(keyed) / median(plain)).toFixed(3)}   (target >= 0.9)`);
console.log(`audited HF connect over HTTP, ${CONNECTS} sequential per round, ${ROUNDS} interleaved rounds, ms`);
console.log(`  no sinks              ${without.map(p).join(' / ')}   median ${p(median(without))}`);
console.log(`  three sinks streaming ${withSinks.map(p).join(' / ')}   median ${p(median(withSinks))}`);
console.log(
  `  added per round       ${added.map(p).join(' / ')}   median ${p(median(added))} ms   ratio ${(median(withSinks) / median(without)).toFixed(3)}   (target < 1 ms added)`,
);
