// Start-up of the compiled CLI (bin/alphaswarm-admin → apps/server/dist): `--help`, `generate-key`
// and `serve` until it logs `listening`, each the median of RUNS runs interleaved with `node -e 0`
// measured in the same run, printed as absolute times and as a ratio to that bare Node start.
// Targets on the 2-core reference machine: --help and generate-key < 0.3 s, serve ready < 1.5 s.
// Prints, never asserts. Run `bash scripts/setup.sh` (or `pnpm --filter @alphaswarm/server build`) first.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BIN = resolve(fileURLToPath(import.meta.url), '../../bin/alphaswarm-admin');
const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-bench-cli-'));
const env = { PATH: process.env.PATH ?? '', HOME: dir, ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db') };

function timed(command: string, args: string[]): number {
  const started = performance.now();
  const run = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** From spawn to the `listening` log line (the socket is bound by then); then SIGTERM and wait. */
async function serveReady(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(BIN, ['serve'], {
    env: { ...env, ALPHASWARM_ADMIN_PORT: String(port), ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c;
  });
  const ms = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('"msg":"listening"')) ok(performance.now() - started);
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code} before listening: ${stderr}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const samples: Record<string, number[]> = { node: [], help: [], key: [], serve: [] };
// A first run of each warms the page cache; it is not counted.
timed('node', ['-e', '0']);
timed(BIN, ['--help']);
await serveReady();
for (let i = 0; i < RUNS; i++) {
  samples.node!.push(timed('node', ['-e', '0']));
  samples.help!.push(timed(BIN, ['--help']));
  samples.key!.push(timed(BIN, ['generate-key']));
  samples.serve!.push(await serveReady());
}
rmSync(dir, { recursive: true, force: true });

const base = median(samples.node!);
const row = (label: string, xs: number[], target: number) => {
  const m = median(xs);
  console.log(
    `${label.padEnd(22)} median ${(m / 1000).toFixed(3)} s  (min ${(Math.min(...xs) / 1000).toFixed(3)}, max ${(Math.max(...xs) / 1000).toFixed(3)})  ${(m / base).toFixed(1)}× node -e 0  target < ${target} s: ${m / 1000 < target ? 'met' : 'NOT MET'}`,
  );
};
const [load1] = (await import('node:os')).loadavg();
console.log(
  `${RUNS} runs each, interleaved; load average ${load1?.toFixed(2)} on ${(await import('node:os')).availableParallelism()} cores`,
);
console.log(`node -e 0               median ${(base / 1000).toFixed(3)} s`);
row('alphaswarm-admin --help', samples.help!, 0.3);
row('generate-key', samples.key!, 0.3);
row('serve → listening', samples.serve!, 1.5);
