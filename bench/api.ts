// Authenticated `integrations.get` requests/s over HTTP on loopback vs a bare node:http server
// answering constant JSON, same client, same run. Target ratio ≥ 0.35. Prints, never asserts.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const IN_FLIGHT = 64;

async function startTarget(mode: 'bare' | 'trpc' | 'app') {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./support/api-target.ts', import.meta.url).pathname, mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} target exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; token?: string }) };
}

async function load(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ rps: number; errors: number }> {
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  let done = 0;
  let errors = 0;
  const run = async (until: number, count: boolean) => {
    while (Date.now() < until) {
      const res = await pool.request({ method: 'GET', path, headers });
      await res.body.text();
      if (count) {
        if (res.statusCode === 200) done++;
        else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => run(Date.now() + 1000, false)));
  const started = Date.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => run(started + DURATION_MS, true)));
  const elapsed = (Date.now() - started) / 1000;
  await pool.close();
  return { rps: done / elapsed, errors };
}

const input = encodeURIComponent(JSON.stringify({ org_id: 'org-bench', kind: 'cloud_aws' }));
const bare = await startTarget('bare');
const baseline = await load(bare.url, `/trpc/integrations.get?input=${input}`, {});
bare.child.kill();
const trpc = await startTarget('trpc');
const ceiling = await load(trpc.url, `/trpc/integrations.get?input=${input}`, {});
trpc.child.kill();
const app = await startTarget('app');
const api = await load(app.url, `/trpc/integrations.get?input=${input}`, { authorization: `Bearer ${app.token}` });
app.child.kill();

const ratio = api.rps / baseline.rps;
console.log('bench/api — authenticated integrations.get over HTTP on loopback');
console.log(`  bare node:http constant JSON : ${baseline.rps.toFixed(0).padStart(8)} req/s`);
console.log(
  `  tRPC adapter, constant query  : ${ceiling.rps.toFixed(0).padStart(8)} req/s  (ratio ${(ceiling.rps / baseline.rps).toFixed(2)}: the adapter's own ceiling)`,
);
console.log(`  integrations.get (JWT+SQLite): ${api.rps.toFixed(0).padStart(8)} req/s  (${api.errors} non-200)`);
console.log(`  ratio ${ratio.toFixed(2)}  target ≥ 0.35  ${ratio >= 0.35 ? 'MET' : 'NOT MET'}`);
