/**
 * Store file throughput on both dialects: 100,000 links (half carrying a Fernet secret, written
 * under the current key) imported from a file into a fresh database, then exported back to a file.
 * Each measurement runs in a child process of its own (a clean peak RSS), the dialects alternate,
 * and each figure is the median of BENCH_RUNS runs (default 3). PostgreSQL is a throwaway cluster
 * with its durability on (fsync, synchronous commit), its data on the same disk as the SQLite file.
 * The memory target is the product's: the compiled CLI's `import` of that file (what an operator
 * runs), its own peak RSS read as it exits, on a fresh database of each dialect. The in-process
 * figure beside it also carries the tsx loader and an export. Prints figures and the PostgreSQL ÷
 * SQLite ratios of this run; asserts nothing.
 * Run from the repo root after `bash scripts/setup.sh` (the CLI build): pnpm exec tsx bench/store.ts [links]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import {
  countLinks,
  exportStoreChunks,
  generateKey,
  importStore,
  Keyring,
  openDatabase,
  type StoreConfig,
  validateStoreFile,
  writeStoreFileAtomic,
} from '@alphaswarm/db';
import { createTestDatabase, startPostgresCluster } from '@alphaswarm/db/testing';
import { secretSchemas } from '@alphaswarm/providers/descriptors';

const TARGETS = { sqliteImport: 20_000, postgresImport: 10_000, rssMiB: 300 };

interface Sample {
  validateMs: number;
  writeMs: number;
  exportMs: number;
  peakRssMiB: number;
}

function rss(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

/** One measurement, in its own process: validate the file, import it, export the database. */
async function child(config: StoreConfig, file: string, key: string, links: number): Promise<Sample> {
  const keyring = Keyring.fromEnv(key);
  const now = new Date('2026-05-28T20:00:00Z');
  const store = await openDatabase(config);
  try {
    let t = performance.now();
    const checked = validateStoreFile(readFileSync(file), keyring, { secretSchemas });
    const validateMs = performance.now() - t;
    if (!checked.ok) throw new Error(`bench file invalid: ${checked.problems[0]?.message}`);
    t = performance.now();
    await importStore(store.db, checked.records, { keyring, onConflict: 'fail', now });
    const writeMs = performance.now() - t;
    if ((await countLinks(store.db)) !== links) throw new Error('import lost links');
    t = performance.now();
    await writeStoreFileAtomic(`${file}.out`, exportStoreChunks(store.db, { now }));
    const exportMs = performance.now() - t;
    return { validateMs, writeMs, exportMs, peakRssMiB: rss() };
  } finally {
    await store.close();
  }
}

const BIN = resolve(fileURLToPath(import.meta.url), '../../bin/alphaswarm-admin');
/** Loaded first into the CLI's process: its peak RSS (KiB) on stderr as it exits. */
const REPORT_RSS = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => process.stderr.write('peak-rss-kib ' + process.resourceUsage().maxRSS + '\\n'));",
)}`;

/** `alphaswarm-admin import <file>` (compiled) into a fresh database: its peak RSS in MiB. */
function cliImportPeak(config: StoreConfig, file: string, key: string, dir: string): number {
  const run = spawnSync(process.execPath, ['--import', REPORT_RSS, BIN, 'import', file], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
      ALPHASWARM_ADMIN_DB_PATH: config.dbPath,
      ...(config.databaseUrl ? { ALPHASWARM_ADMIN_DATABASE_URL: config.databaseUrl } : {}),
    },
    encoding: 'utf8',
  });
  const kib = /peak-rss-kib (\d+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || !kib) throw new Error(`alphaswarm-admin import exited ${run.status}: ${run.stderr}`);
  return Number(kib) / 1024;
}

function records(keyring: Keyring, links: number): StoreFileRecord[] {
  const out: StoreFileRecord[] = [];
  for (let i = 0; i < links; i++) {
    const org = `org-${String(Math.floor(i / 2)).padStart(6, '0')}`;
    const secretBearing = i % 2 === 0;
    const kind = secretBearing ? 'huggingface' : 'cloud_aws';
    out.push({
      credential_key: `${kind}:org:${org}`,
      org_id: org,
      kind,
      namespace: secretBearing ? `ns-${i}` : '123456789012',
      status: 'healthy',
      connected_at: '2026-05-27T20:00:00Z',
      last_health_at: '2026-05-28T20:00:00Z',
      last_health_status: 'healthy',
      error: null,
      metadata: secretBearing
        ? {
            type: 'org',
            auth_email: 'ops@example.com',
            orgs: [`ns-${i}`],
            token_name: 'platform-read',
            token_role: 'fineGrained',
          }
        : { role_arn: `arn:aws:iam::123456789012:role/alphaswarm-${org}`, regions: ['us-east-1', 'eu-west-1'] },
      secret: secretBearing ? keyring.encrypt(JSON.stringify({ token: `hf_${'x'.repeat(34)}` })) : null,
    });
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const links = Number(process.argv[2] ?? 100_000);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const key = generateKey();
  const file = join(dir, 'integrations.json');
  const all = records(Keyring.fromEnv(key), links);
  await writeStoreFileAtomic(
    file,
    (function* () {
      yield '{"format":"alphaswarm.integrations","version":1,"exported_at":"2026-05-28T20:00:00Z","integrations":[';
      for (let i = 0; i < all.length; i++) yield `${i ? ',' : ''}\n${JSON.stringify(all[i])}`;
      yield '\n]}\n';
    })(),
  );
  all.length = 0;
  const cluster = await startPostgresCluster({ durable: true });
  const samples: Record<'sqlite' | 'postgres', Sample[]> = { sqlite: [], postgres: [] };
  const cliPeaks: Record<'sqlite' | 'postgres', number[]> = { sqlite: [], postgres: [] };
  try {
    for (let run = 0; run < runs; run++) {
      for (const dialect of ['sqlite', 'postgres'] as const) {
        const pg = dialect === 'postgres' ? await createTestDatabase(cluster) : null;
        const config: StoreConfig = { dbPath: join(dir, `run-${run}.db`), ...(pg ? { databaseUrl: pg.url } : {}) };
        const out = execFileSync(
          process.execPath,
          [
            ...process.execArgv,
            fileURLToPath(import.meta.url),
            '--child',
            JSON.stringify({ config, file, key, links }),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        samples[dialect].push(JSON.parse(out.trim().split('\n').at(-1)!));
        await pg?.drop();
        const clean = () => {
          rmSync(config.dbPath, { force: true });
          for (const suffix of ['-wal', '-shm']) rmSync(`${config.dbPath}${suffix}`, { force: true });
        };
        clean();
        const cliPg = dialect === 'postgres' ? await createTestDatabase(cluster) : null;
        const cliConfig: StoreConfig = { dbPath: config.dbPath, ...(cliPg ? { databaseUrl: cliPg.url } : {}) };
        cliPeaks[dialect].push(cliImportPeak(cliConfig, file, key, dir));
        await cliPg?.drop();
        clean();
      }
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const rate = (ms: number) => Math.round(links / (ms / 1000));
  const figure = (dialect: 'sqlite' | 'postgres') => {
    const s = samples[dialect];
    return {
      validate: rate(median(s.map((x) => x.validateMs))),
      write: rate(median(s.map((x) => x.writeMs))),
      import: rate(median(s.map((x) => x.validateMs + x.writeMs))),
      export: rate(median(s.map((x) => x.exportMs))),
      rss: Math.round(median(s.map((x) => x.peakRssMiB))),
      cliRss: Math.round(median(cliPeaks[dialect])),
    };
  };
  const lite = figure('sqlite');
  const pg = figure('postgres');
  const row = (label: string, a: number, b: number, unit: string) =>
    console.log(
      `${label.padEnd(30)} ${`${a.toLocaleString('en')} ${unit}`.padStart(18)} ${`${b.toLocaleString('en')} ${unit}`.padStart(18)} ${(b / a).toFixed(2).padStart(8)}`,
    );
  console.log(`bench/store — ${links.toLocaleString('en')} links, median of ${runs} run(s) per dialect`);
  console.log(`${''.padEnd(30)} ${'SQLite'.padStart(18)} ${'PostgreSQL'.padStart(18)} ${'PG÷SQLite'.padStart(8)}`);
  row('import: read + validate', lite.validate, pg.validate, 'rec/s');
  row('import: write', lite.write, pg.write, 'rec/s');
  row('import (file -> fresh db)', lite.import, pg.import, 'rec/s');
  row('export (db -> file)', lite.export, pg.export, 'rec/s');
  row('peak RSS, CLI import', lite.cliRss, pg.cliRss, 'MiB');
  row('peak RSS, in-process (tsx)', lite.rss, pg.rss, 'MiB');
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  console.log(
    `targets: SQLite import >= ${TARGETS.sqliteImport.toLocaleString('en')}/s ${verdict(lite.import >= TARGETS.sqliteImport)}, ` +
      `CLI import peak RSS < ${TARGETS.rssMiB} MiB ${verdict(lite.cliRss < TARGETS.rssMiB)}; ` +
      `PostgreSQL import >= ${TARGETS.postgresImport.toLocaleString('en')}/s ${verdict(pg.import >= TARGETS.postgresImport)}`,
  );
}

if (process.argv[2] === '--child') {
  const { config, file, key, links } = JSON.parse(process.argv[3]!);
  process.stdout.write(`${JSON.stringify(await child(config, file, key, links))}\n`);
} else {
  await main();
}
