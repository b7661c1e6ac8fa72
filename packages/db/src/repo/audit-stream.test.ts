import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../../test/stores';
import { CHAIN_UPGRADED, KEY_ROTATED } from '../audit/chain';
import { AuditKeyRing } from '../audit/key-ring';
import { generateKey } from '../crypto';
import type { Store } from '../database';
import { anchorAuditKey, appendAudit, listAudit, newRunId, verifyAudit } from './audit';
import {
  ackOutbox,
  claimOutbox,
  deleteArchivedAudit,
  failOutbox,
  firstAuditSeq,
  outboxLag,
  releaseOutbox,
} from './audit-stream';

const NOW = new Date('2026-05-27T20:00:00.000Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const k1 = AuditKeyRing.fromEnv(generateKey());

let store: Store;
beforeEach(async () => {
  store = await testStore();
});
afterEach(() => store.close());

async function append(n: number, keys: AuditKeyRing | null = k1, at = NOW): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appendAudit(
      store.db,
      { runId: newRunId(), actor: `a${i}`, action: 'integrations.list', phase: 'event', outcome: 'success' },
      at.toISOString(),
      keys,
    );
  }
}

describe('keyed audit appends', () => {
  it('upgrade a plain chain in place from an anchor of its tip, and record a key rotation once', async () => {
    await append(2, null);
    expect(await anchorAuditKey(store.db, k1, NOW.toISOString())).toBe(true);
    expect(await anchorAuditKey(store.db, k1, NOW.toISOString())).toBe(false);
    await append(1);
    const both = new AuditKeyRing([AuditKeyRing.fromEnv(generateKey()).primary, k1.primary]);
    await append(1, both);
    const rows = (await listAudit(store.db, {}, { limit: 10 })).reverse();
    expect(rows.map((r) => r.action)).toEqual([
      'integrations.list',
      'integrations.list',
      CHAIN_UPGRADED,
      'integrations.list',
      KEY_ROTATED,
      'integrations.list',
    ]);
    expect(rows[2]!.detail).toEqual({ anchor_seq: rows[1]!.seq, anchor_link: rows[1]!.hash });
    expect(await verifyAudit(store.db, { ring: both, requireKeyed: true })).toMatchObject({ ok: true, plain: 2 });
  });

  it('deletes only rows a recorded retention cut covers', async () => {
    await append(4);
    const rows = (await listAudit(store.db, {}, { limit: 10 })).reverse();
    await expect(store.exec(sql`delete from audit_events where seq = ${rows[3]!.seq}`)).rejects.toThrow(/append-only/);
    const cut = rows[1]!;
    const gone = await deleteArchivedAudit(store.db, {
      throughSeq: cut.seq,
      throughLink: cut.hash,
      file: 'audit-1-2.jsonl',
      archivedAt: NOW.toISOString(),
    });
    expect(gone).toBe(2);
    expect(await firstAuditSeq(store.db)).toBe(rows[2]!.seq);
    await expect(store.exec(sql`delete from audit_events where seq = ${rows[2]!.seq}`)).rejects.toThrow(/append-only/);
  });
});

describe('the audit outbox', () => {
  it('leases a sink to one process, resumes after the cursor, backs off after a failure, and reports lag', async () => {
    await append(5);
    const a = await claimOutbox(store.db, 'https', 'proc-a', NOW, 60_000, 3);
    expect(a?.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(await claimOutbox(store.db, 'https', 'proc-b', later(1_000), 60_000, 3)).toBeNull();
    expect(await ackOutbox(store.db, 'https', 'proc-a', 3, later(2_000))).toBe(true);
    expect((await outboxLag(store.db, 'https', later(10_000))).pending).toBe(2);

    // proc-a dies holding the lease: proc-b takes over once it expires, from the cursor on.
    await claimOutbox(store.db, 'https', 'proc-a', later(3_000), 60_000, 3);
    const b = await claimOutbox(store.db, 'https', 'proc-b', later(64_000), 60_000, 3);
    expect(b?.records.map((r) => r.seq)).toEqual([4, 5]);
    expect(await ackOutbox(store.db, 'https', 'proc-a', 5, later(65_000))).toBe(false);

    await failOutbox(store.db, 'https', 'proc-b', later(70_000), 'audit sink https (x): answered 503');
    expect(await claimOutbox(store.db, 'https', 'proc-b', later(69_000), 60_000, 3)).toBeNull();
    const retry = await claimOutbox(store.db, 'https', 'proc-b', later(70_000), 60_000, 3);
    expect(retry).toMatchObject({ attempts: 1 });
    expect(await outboxLag(store.db, 'https', later(70_000))).toMatchObject({
      pending: 2,
      oldestPendingSeconds: 70,
      attempts: 1,
      lastError: 'audit sink https (x): answered 503',
    });
    await releaseOutbox(store.db, 'https', 'proc-b');
    expect(await claimOutbox(store.db, 'https', 'proc-c', later(71_000), 60_000, 3)).not.toBeNull();
    // Another sink has its own cursor.
    expect((await claimOutbox(store.db, 'otlp', 'proc-c', later(71_000), 60_000, 10))?.records).toHaveLength(5);
  });
});
