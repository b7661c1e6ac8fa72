/**
 * Store file throughput: 100,000 links (half carrying a Fernet secret) exported from one database
 * and imported into a fresh one. Prints records/s and peak RSS against the targets; asserts nothing.
 * Run from the repo root: pnpm exec tsx bench/store.ts [links]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import {
  countLinks,
  exportStoreChunks,
  generateKey,
  importStore,
  Keyring,
  openStore,
  validateStoreFile,
  writeStoreFileAtomic,
} from '@alphaswarm/db';

const LINKS = Number(process.argv[2] ?? 100_000);
const TARGET_RATE = 20_000;
const TARGET_RSS_MIB = 300;

const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const keyring = Keyring.fromEnv(generateKey());
const now = new Date();

function seedRecords(from: number, to: number): StoreFileRecord[] {
  const records: StoreFileRecord[] = [];
  for (let i = from; i < to; i++) {
    const org = `org-${String(Math.floor(i / 2)).padStart(6, '0')}`;
    const secretBearing = i % 2 === 0;
    const kind = secretBearing ? 'huggingface' : 'cloud_aws';
    records.push({
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
  return records;
}

function mem(label: string): void {
  if (!process.env.BENCH_TRACE) return;
  const g = (globalThis as { gc?: () => void }).gc;
  const before = process.memoryUsage().heapUsed;
  g?.();
  if (g) console.log(`  [${label}] heap before gc ${(before / 2 ** 20).toFixed(0)} MiB`);
  const u = process.memoryUsage();
  console.log(
    `  [${label}] rss ${(u.rss / 2 ** 20).toFixed(0)} MiB, heap ${(u.heapUsed / 2 ** 20).toFixed(0)} MiB, peak ${rss().toFixed(0)} MiB`,
  );
}

function rss(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

function line(label: string, records: number, ms: number): void {
  const rate = Math.round(records / (ms / 1000));
  console.log(
    `${label.padEnd(28)} ${String(records).padStart(7)} records in ${(ms / 1000).toFixed(2).padStart(6)} s = ${String(rate).padStart(7)} records/s  (target >= ${TARGET_RATE}: ${rate >= TARGET_RATE ? 'ok' : 'MISSED'})`,
  );
}

async function main(): Promise<void> {
  const source = openStore(join(dir, 'source.db'));
  // Seeded in slices so the seed data does not count towards the peak RSS measured below.
  for (let i = 0; i < LINKS; i += 10_000) {
    await importStore(source.db, seedRecords(i, Math.min(LINKS, i + 10_000)), { keyring, onConflict: 'fail', now });
  }
  const rssAfterSeed = rss();
  mem('seeded');

  const file = join(dir, 'integrations.json');
  let t = performance.now();
  await writeStoreFileAtomic(file, exportStoreChunks(source.db, { now }));
  const exportMs = performance.now() - t;
  mem('exported');
  line('export (db -> file)', LINKS, exportMs);
  source.close();

  const target = openStore(join(dir, 'target.db'));
  t = performance.now();
  const checked = validateStoreFile(readFileSync(file), keyring);
  const validateMs = performance.now() - t;
  mem('validated');
  if (!checked.ok) throw new Error(`bench file invalid: ${checked.problems[0]?.message}`);
  const t2 = performance.now();
  const result = await importStore(target.db, checked.records, { keyring, onConflict: 'fail', now });
  const writeMs = performance.now() - t2;
  mem('imported');
  line('  import: read + validate', LINKS, validateMs);
  line('  import: write (rotate+insert)', LINKS, writeMs);
  line('import (file -> fresh db)', result.inserted, validateMs + writeMs);
  if ((await countLinks(target.db)) !== LINKS) throw new Error('import lost links');
  target.close();

  const peak = rss();
  console.log(`file size                    ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);
  console.log(`peak RSS after seeding       ${rssAfterSeed.toFixed(0)} MiB`);
  console.log(
    `peak RSS (whole run)         ${peak.toFixed(0)} MiB  (target < ${TARGET_RSS_MIB} MiB: ${peak < TARGET_RSS_MIB ? 'ok' : 'MISSED'})`,
  );
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

await main();
