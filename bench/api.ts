// Requests/s over HTTP on loopback, as ratios to tRPC's standalone adapter serving a constant query
// (no auth, no database), measured in the same run, by the same client, round after round:
//   authenticated integrations.get (JWT + SQLite read)       target ≥ 0.8 of the adapter
//   credentials.issue (service JWT, audited: two audit rows, a Fernet decrypt)   printed beside it
// and both again with the API on PostgreSQL (a throwaway durable cluster), side by side with SQLite
// as PostgreSQL ÷ SQLite: authenticated reads target ≥ 0.7 of SQLite's.
// Each figure is the median over the rounds (ratios: the median of the per-round ratios). Prints,
// never asserts.
//   pnpm exec tsx bench/api.ts            (BENCH_SECONDS per measurement, default 3; BENCH_ROUNDS, default 5)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createTestDatabase, startPostgresCluster } from '@alphaswarm/db/testing';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 3) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IN_FLIGHT = 64;
const TARGET = 0.8;
const PG_TARGET = 0.7;

async function startTarget(mode: 'trpc' | 'app', databaseUrl?: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./support/api-target.ts', import.meta.url).pathname,
      mode,
      ...(databaseUrl ? [databaseUrl] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} target exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; token?: string; serviceToken?: string }) };
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

async function load(url: string, call: Call, warmMs: number): Promise<{ rps: number; errors: number }> {
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  let done = 0;
  let errors = 0;
  const run = async (until: number, count: boolean) => {
    while (Date.now() < until) {
      const res = await pool.request(call);
      await res.body.text();
      if (count) {
        if (res.statusCode === 200) done++;
        else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => run(Date.now() + warmMs, false)));
  const started = Date.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => run(started + DURATION_MS, true)));
  const elapsed = (Date.now() - started) / 1000;
  await pool.close();
  return { rps: done / elapsed, errors };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const input = encodeURIComponent(JSON.stringify({ org_id: 'org-bench', kind: 'cloud_aws' }));
const getPath = `/trpc/integrations.get?input=${input}`;
const cluster = await startPostgresCluster({ durable: true });
const pgDatabase = await createTestDatabase(cluster);
const adapter = await startTarget('trpc');
const app = await startTarget('app');
const pgApp = await startTarget('app', pgDatabase.url);
const issueCall = (token: string | undefined): Call => ({
  method: 'POST',
  path: '/trpc/credentials.issue',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ org_id: 'org-bench', kind: 'huggingface' }),
});
const calls = {
  adapter: { method: 'GET', path: getPath, headers: {} },
  get: { method: 'GET', path: getPath, headers: { authorization: `Bearer ${app.token}` } },
  issue: issueCall(app.serviceToken),
  pgGet: { method: 'GET', path: getPath, headers: { authorization: `Bearer ${pgApp.token}` } },
  pgIssue: issueCall(pgApp.serviceToken),
} satisfies Record<string, Call>;

const rps = {
  adapter: [] as number[],
  get: [] as number[],
  issue: [] as number[],
  pgGet: [] as number[],
  pgIssue: [] as number[],
};
const ratios = { get: [] as number[], issue: [] as number[], pgGet: [] as number[], pgIssue: [] as number[] };
let errors = 0;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const warm = round === 0 ? 1500 : 300;
    const a = await load(adapter.url, calls.adapter, warm);
    const g = await load(app.url, calls.get, warm);
    const i = await load(app.url, calls.issue, warm);
    const pg = await load(pgApp.url, calls.pgGet, warm);
    const pi = await load(pgApp.url, calls.pgIssue, warm);
    errors += a.errors + g.errors + i.errors + pg.errors + pi.errors;
    rps.adapter.push(a.rps);
    rps.get.push(g.rps);
    rps.issue.push(i.rps);
    rps.pgGet.push(pg.rps);
    rps.pgIssue.push(pi.rps);
    ratios.get.push(g.rps / a.rps);
    ratios.issue.push(i.rps / a.rps);
    ratios.pgGet.push(pg.rps / g.rps);
    ratios.pgIssue.push(pi.rps / i.rps);
  }
} finally {
  adapter.child.kill();
  app.child.kill();
  pgApp.child.kill();
  await new Promise((r) => pgApp.child.once('exit', r));
  await pgDatabase.drop();
  await cluster.stop();
}

const fmt = (n: number) => n.toFixed(0).padStart(7);
const ratio = median(ratios.get);
const pgRatio = median(ratios.pgGet);
console.log(`bench/api — requests/s on loopback, median of ${ROUNDS} rounds of ${DURATION_MS / 1000} s each`);
console.log(`  tRPC standalone adapter, constant query : ${fmt(median(rps.adapter))} req/s  (baseline, 1.00)`);
console.log(
  `  integrations.get (JWT + SQLite)          : ${fmt(median(rps.get))} req/s  ratio ${ratio.toFixed(2)}  target ≥ ${TARGET}  ${ratio >= TARGET ? 'MET' : 'NOT MET'}`,
);
console.log(
  `  credentials.issue (audited)              : ${fmt(median(rps.issue))} req/s  ratio ${median(ratios.issue).toFixed(2)}`,
);
console.log(`                                 SQLite req/s   PostgreSQL req/s   PG÷SQLite`);
console.log(
  `  integrations.get             ${fmt(median(rps.get))}        ${fmt(median(rps.pgGet))}        ${pgRatio.toFixed(2)}  target ≥ ${PG_TARGET}  ${pgRatio >= PG_TARGET ? 'MET' : 'NOT MET'}`,
);
console.log(
  `  credentials.issue            ${fmt(median(rps.issue))}        ${fmt(median(rps.pgIssue))}        ${median(ratios.pgIssue).toFixed(2)}`,
);
console.log(
  `  per-round get ratios: ${ratios.get.map((r) => r.toFixed(2)).join(' ')}; PG÷SQLite ${ratios.pgGet.map((r) => r.toFixed(2)).join(' ')}${errors ? `   (${errors} non-200 answers!)` : ''}`,
);
