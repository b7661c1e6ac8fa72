import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type AuditInput,
  AuditKey,
  AuditKeyRing,
  appendAudit,
  generateKey,
  hashAuditRow,
  isoNow,
  listAudit,
  newRunId,
  type Store,
  sql,
} from '@alphaswarm/db';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveExpired, writeCheckpoint } from '../src/audit/service';
import { authRoutes } from '../src/auth/idp/http';
import { auditExport, auditVerify } from '../src/cli/audit';
import { CliError } from '../src/cli/context';
import { Cli } from '../src/cli/io';
import { allowAuditUpdates } from './support/database';
import { call, type Harness, startHarness } from './support/harness';

const k1 = generateKey();
const k2 = generateKey();
const NOW = new Date('2026-03-01T12:00:00.000Z');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function event(i: number): AuditInput {
  return { runId: newRunId(), actor: `user-${i}`, action: 'integrations.list', phase: 'event', outcome: 'success' };
}

async function appendN(harness: Harness, n: number, ring = harness.rt.auditKeys, at = NOW): Promise<void> {
  for (let i = 0; i < n; i++) await appendAudit(harness.store.db, event(i), isoNow(at), ring);
}

/** A CLI io capturing stdout (lines and raw chunks) and stderr lines. */
function io() {
  let written = '';
  let errors = '';
  const lines = (text: string) => text.split('\n').filter((l) => l !== '');
  return {
    get out() {
      return lines(written);
    },
    get err() {
      return lines(errors);
    },
    get written() {
      return written;
    },
    io: new Cli({
      env: {},
      stdin: Readable.from([]),
      stdout: { write: (c: string) => (written += c) },
      stderr: { write: (c: string) => (errors += c) },
    }),
  };
}

async function verify(harness: Harness, opts: Parameters<typeof auditVerify>[2] = {}, ring = k1): Promise<string> {
  const o = io();
  const env = { ...harness.rt.env, ALPHASWARM_ADMIN_AUDIT_KEY: ring };
  try {
    await auditVerify(o.io, env, opts, async () => ({ db: harness.store.db, close: () => undefined }));
  } catch (error) {
    if (error instanceof CliError) return `FAILED ${error.message}`;
    throw error;
  }
  return o.out.join('\n');
}

/** Let DELETE through the append-only guard (to tamper on purpose). */
async function allowAuditDeletes(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') await store.exec(sql`DROP TRIGGER audit_events_no_delete`);
  else await store.exec(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_delete`);
}

describe('a keyed audit chain', () => {
  it('fails audit-verify when a row is rewritten and every plain SHA-256 link after it recomputed with SQL', async () => {
    h = await startHarness({ env: { ALPHASWARM_ADMIN_AUDIT_KEY: k1 } });
    await appendN(h, 6);
    expect(await verify(h)).toMatch(/^audit chain intact: 6 events verified/);

    const rows = (await listAudit(h.store.db, {}, { limit: 100 })).reverse();
    const restore = await allowAuditUpdates(h.store);
    let prev = rows[2]!.prevHash;
    for (const row of rows.slice(2)) {
      const edited = { ...row, prevHash: prev, actor: row.seq === rows[2]!.seq ? 'mallory' : row.actor };
      const { seq: _s, hash: _h, ...rest } = edited;
      const hash = hashAuditRow(rest);
      await h.store.exec(
        sql`update audit_events set actor = ${edited.actor}, prev_hash = ${prev}, hash = ${hash} where seq = ${row.seq}`,
      );
      prev = hash;
    }
    await restore();
    expect(await verify(h)).toMatch(new RegExp(`^FAILED audit chain diverges \\(rewritten\\) at seq ${rows[2]!.seq}`));
  });

  it('names the missing range when the tail is deleted, against checkpoints and the key published in the JWKS', async () => {
    h = await startHarness({ env: { ALPHASWARM_ADMIN_AUDIT_KEY: k1 }, extraRoutes: (rt) => [authRoutes(rt)] });
    await appendN(h, 4);
    const cp = await writeCheckpoint(h.rt.auditHousekeeping());
    expect(cp).toMatchObject({ last_seq: 4 });
    const jwks = await call(h, 'GET', '/.well-known/jwks.json', { token: null });
    expect(jwks.body.keys.some((k: { crv?: string }) => k.crv === 'Ed25519')).toBe(true);
    const keyFile = join(h.dir, 'jwks.json');
    const cpFile = join(h.dir, 'checkpoints.jsonl');
    writeFileSync(keyFile, jwks.text);
    writeFileSync(cpFile, `${cp!.jws}\n`);
    expect(await verify(h, { checkpoints: cpFile, publicKey: keyFile })).toMatch(/1 checkpoint matched/);

    await allowAuditDeletes(h.store);
    await h.store.exec(sql`delete from audit_events where seq > 2`);
    expect(await verify(h)).toMatch(/^audit chain intact/);
    const failed = await verify(h, { checkpoints: cpFile, publicKey: keyFile });
    expect(failed).toMatch(/^FAILED audit chain diverges \(truncated\) at seq 3/);
    expect(failed).toContain('Missing: seq 3..4');
  });

  it('verifies end to end across a rotation of the audit key mid-chain', async () => {
    h = await startHarness({ env: { ALPHASWARM_ADMIN_AUDIT_KEY: k1 } });
    await appendN(h, 3);
    const rotated = AuditKeyRing.fromEnv(`${k2},${k1}`);
    await appendN(h, 3, rotated);
    const actions = (await listAudit(h.store.db, {}, { limit: 100 })).map((r) => r.action);
    expect(actions.filter((a) => a === 'audit.key_rotated')).toHaveLength(1);
    expect(await verify(h, {}, `${k2},${k1}`)).toMatch(/^audit chain intact: 7 events/);
    expect(await verify(h, {}, k2)).toMatch(/^FAILED .*\(unknown_key\) at seq 1/);
    expect(AuditKey.fromText(k2).id).toBe(rotated.primary.id);
  });

  it('exports JSONL that verifies offline and CSV that carries each link', async () => {
    h = await startHarness({ env: { ALPHASWARM_ADMIN_AUDIT_KEY: k1 } });
    await appendN(h, 3, undefined, new Date('2026-01-01T00:00:00Z'));
    await appendN(h, 2, undefined, new Date('2026-02-01T00:00:00Z'));
    const open = async () => ({ db: h!.store.db, close: () => undefined });
    const file = join(h.dir, 'audit.jsonl');
    const o = io();
    await auditExport(o.io, { format: 'jsonl', out: file }, open);
    expect(await verify(h, { file })).toMatch(/^audit chain intact: 5 events verified/);

    const since = io();
    await auditExport(since.io, { format: 'jsonl', since: '2026-01-15' }, open);
    expect(since.written.trim().split('\n')).toHaveLength(2);
    const csv = io();
    await auditExport(csv.io, { format: 'csv', until: '2026-01-15T00:00:00Z' }, open);
    const lines = csv.written.trim().split('\n');
    expect(lines[0]).toContain('prev_link,link,key_id');
    expect(lines).toHaveLength(4);
    await expect(auditExport(io().io, { format: 'csv', since: 'yesterday' }, open)).rejects.toThrow(/RFC 3339/);

    // The console's export of a filtered view: the same formatter, byte for byte.
    const whole = io();
    await auditExport(whole.io, { format: 'jsonl' }, open);
    const api = async (input: object) =>
      (await call(h!, 'GET', `/trpc/audit.export?input=${encodeURIComponent(JSON.stringify(input))}`)).body?.result
        ?.data as { content: string; rows: number; truncated: boolean; filename: string };
    const viaApi = await api({ format: 'jsonl', action: 'integrations.list' });
    expect(viaApi).toMatchObject({ rows: 5, truncated: false, filename: expect.stringMatching(/^audit-.*\.jsonl$/) });
    expect(viaApi.content).toBe(whole.written);
    const csvApi = await api({ format: 'csv', action: 'integrations.list', to: '2026-01-15T00:00:00Z' });
    expect(csvApi.content).toBe(csv.written);
  });

  it('archives past the retention to a signed JSONL and verifies across the cut', async () => {
    h = await startHarness({ env: { ALPHASWARM_ADMIN_AUDIT_KEY: k1 }, now: () => NOW });
    await appendN(h, 4, undefined, new Date('2025-01-01T00:00:00Z'));
    await appendN(h, 2, undefined, NOW);
    const dir = join(h.dir, 'archive');
    const archived = await archiveExpired(h.rt.auditHousekeeping(), { days: 30, dir, sinks: [] });
    expect(archived).toMatchObject({ rows: 4, throughSeq: 4 });
    const left = (await listAudit(h.store.db, {}, { limit: 100 })).map((r) => r.seq);
    expect(Math.min(...left)).toBe(5);
    expect(await verify(h)).toMatch(/^audit chain intact: 3 events verified/);
    expect(await verify(h, { file: archived!.file })).toMatch(/^audit chain intact: 4 events verified/);
    // The archive's signed trailer is a checkpoint of its last row.
    const jwks = JSON.stringify(await h.rt.auditSigner.jwks());
    writeFileSync(join(h.dir, 'k.json'), jwks);
    expect(
      await verify(h, { file: archived!.file, checkpoints: archived!.file, publicKey: join(h.dir, 'k.json') }),
    ).toMatch(/1 checkpoint matched/);
    // Deleting more of the head than the archive row accounts for is named.
    await allowAuditDeletes(h.store);
    await h.store.exec(sql`delete from audit_events where seq = 5`);
    expect(await verify(h)).toMatch(/\(head_missing\)/);
  });
});
