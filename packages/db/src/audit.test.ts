import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditKeyRing } from './audit/key-ring';
import { generateKey } from './crypto';
import {
  type AuditInput,
  type AuditRow,
  anchorAuditKey,
  appendAudit,
  appendOutcomeIfOpen,
  attemptOf,
  auditRowsBetween,
  countAudit,
  dropOpenRun,
  GENESIS_HASH,
  hashAuditRow,
  listAudit,
  listOpenRuns,
  newRunId,
  processOwner,
  verifyAudit,
} from './repo/audit';
import { openStore, type SqliteStore as Store } from './sqlite';

/*
 * The audit chain as an attacker with write access to the file sees it: the append-only triggers
 * are dropped, rows are edited, deleted and re-linked, and verification must name the first row
 * that no longer fits.
 */

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-chain-'));
  store = openStore(join(dir, 'admin.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = '2031-05-01T10:00:00Z';
const event = (n: number): AuditInput => ({
  runId: newRunId(),
  actor: 'alice',
  action: 'integrations.connect.huggingface',
  phase: 'event',
  outcome: 'success',
  orgId: `org-${n}`,
  detail: { n },
});

async function chain(length: number): Promise<AuditRow[]> {
  for (let i = 1; i <= length; i++) await appendAudit(store.db, event(i), NOW);
  return (await listAudit(store.db, {}, { limit: length })).reverse();
}

/** What someone with the file can do once the triggers are gone. */
function tamper(sql: string, ...params: unknown[]): void {
  store.sqlite.exec('DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete;');
  store.sqlite.prepare(sql).run(...params);
}

const EDITED = expect.stringMatching(/does not match its link: the row was rewritten$/);
const UNLINKED = expect.stringMatching(
  /a row between them was dropped, inserted or reordered$|does not match its link/,
);

describe('audit chain: append', () => {
  it('starts at the genesis hash and links each row to the hash of the one before', async () => {
    const rows = await chain(3);
    expect(rows.map((r) => r.prevHash)).toEqual([GENESIS_HASH, rows[0]?.hash, rows[1]?.hash]);
    for (const row of rows) {
      const { seq: _seq, hash, ...content } = row;
      expect(hash).toBe(hashAuditRow(content));
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 3, tip: { link: rows[2]?.hash } });
  });

  it('an empty log verifies, with the genesis hash as its tip', async () => {
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 0, tip: { link: GENESIS_HASH } });
  });

  it('the hash covers every field, the previous hash included, and not the key order of detail', async () => {
    const [row] = await chain(1);
    const { seq: _seq, hash, ...content } = row as AuditRow;
    const changes: Partial<Omit<AuditRow, 'seq' | 'hash'>>[] = [
      { id: 'another-id' },
      { runId: 'run_other' },
      { at: '2031-05-01T10:00:01Z' },
      { actor: 'mallory' },
      { clientIp: '192.0.2.9' },
      { action: 'store.import' },
      { phase: 'attempt' },
      { outcome: 'failure' },
      { orgId: 'org-x' },
      { kind: 'docker_hub' },
      { credentialKey: 'docker_hub:org:org-x' },
      { detail: { n: 2 } },
      { prevHash: 'f'.repeat(64) },
    ];
    for (const change of changes)
      expect(hashAuditRow({ ...content, ...change }), JSON.stringify(change)).not.toBe(hash);
    expect(hashAuditRow({ ...content, detail: { b: 1, a: 2 } })).toBe(
      hashAuditRow({ ...content, detail: { a: 2, b: 1 } }),
    );
  });
});

describe('audit chain: verify names the first row that does not fit', () => {
  it('an edited field in the first row', async () => {
    const rows = await chain(3);
    tamper(`UPDATE audit_events SET actor = 'mallory' WHERE seq = ?`, rows[0]?.seq);
    expect(await verifyAudit(store.db)).toMatchObject({
      ok: false,
      checked: 0,
      tip: { link: GENESIS_HASH },
      broken: { seq: rows[0]?.seq, id: rows[0]?.id, reason: EDITED },
    });
  });

  it('a first row that does not start at the genesis hash', async () => {
    const rows = await chain(2);
    tamper(`UPDATE audit_events SET prev_hash = ? WHERE seq = ?`, 'a'.repeat(64), rows[0]?.seq);
    expect((await verifyAudit(store.db)).broken).toMatchObject({
      seq: rows[0]?.seq,
      id: rows[0]?.id,
      reason: UNLINKED,
    });
  });

  it('a deleted middle row breaks the link of the row after it', async () => {
    const rows = await chain(4);
    tamper('DELETE FROM audit_events WHERE seq = ?', rows[1]?.seq);
    expect(await verifyAudit(store.db)).toMatchObject({
      ok: false,
      checked: 1,
      tip: { link: rows[0]?.hash },
      broken: { seq: rows[2]?.seq, id: rows[2]?.id, reason: UNLINKED },
    });
  });

  it('a deleted first row is named as a missing head no archive accounts for', async () => {
    const rows = await chain(2);
    tamper('DELETE FROM audit_events WHERE seq = ?', rows[0]?.seq);
    expect((await verifyAudit(store.db)).broken).toEqual({
      seq: rows[1]?.seq,
      id: '',
      reason: 'rows up to seq 1 are missing and no archive record in the chain accounts for them',
    });
  });

  it('a deleted row whose successor is re-linked to the row before still fails: prev_hash is hashed', async () => {
    const rows = await chain(3);
    tamper('DELETE FROM audit_events WHERE seq = ?', rows[1]?.seq);
    tamper('UPDATE audit_events SET prev_hash = ? WHERE seq = ?', rows[0]?.hash, rows[2]?.seq);
    expect(await verifyAudit(store.db)).toMatchObject({
      ok: false,
      checked: 1,
      tip: { link: rows[0]?.hash },
      broken: { seq: rows[2]?.seq, id: rows[2]?.id, reason: EDITED },
    });
  });

  it('an edited last row, after every row before it verified', async () => {
    const rows = await chain(3);
    tamper(`UPDATE audit_events SET detail = '{"n":0}' WHERE seq = ?`, rows[2]?.seq);
    expect(await verifyAudit(store.db)).toMatchObject({
      ok: false,
      checked: 2,
      tip: { link: rows[1]?.hash },
      broken: { seq: rows[2]?.seq, id: rows[2]?.id, reason: EDITED },
    });
  });

  it('walks a chain longer than one read batch, reporting progress per batch, and finds a break past the first batch', async () => {
    const insert = store.sqlite.prepare(
      `INSERT INTO audit_events (id, run_id, at, actor, client_ip, action, phase, outcome, org_id, kind, credential_key, detail, prev_hash, hash)
       VALUES (@id, @runId, @at, @actor, @clientIp, @action, @phase, @outcome, @orgId, @kind, @credentialKey, @detail, @prevHash, @hash)`,
    );
    let prevHash = GENESIS_HASH;
    store.sqlite.transaction(() => {
      for (let i = 1; i <= 1001; i++) {
        const row = {
          id: `id-${i}`,
          runId: `run_${i}`,
          at: NOW,
          actor: 'alice',
          clientIp: null,
          action: 'system.info',
          phase: 'event',
          outcome: 'success',
          orgId: null,
          kind: null,
          credentialKey: null,
          detail: {},
          prevHash,
          keyId: null,
        };
        const hash = hashAuditRow(row);
        insert.run({ ...row, detail: '{}', hash });
        prevHash = hash;
      }
    })();
    const progress: number[] = [];
    expect(await verifyAudit(store.db, { onProgress: (n) => progress.push(n) })).toMatchObject({
      ok: true,
      checked: 1001,
      tip: { link: prevHash },
    });
    expect(progress).toEqual([1000, 1001]);

    tamper(`UPDATE audit_events SET actor = 'mallory' WHERE id = 'id-1001'`);
    expect(await verifyAudit(store.db)).toMatchObject({
      ok: false,
      checked: 1000,
      broken: { id: 'id-1001', reason: EDITED },
    });
  });
});

describe('audit log: reading it back', () => {
  /** Six rows across two orgs, two kinds, three actions and a day each. */
  async function log(): Promise<AuditRow[]> {
    const rows: AuditInput[] = [
      ['org-a', 'huggingface', 'integrations.connect.huggingface', 'success'],
      ['org-a', 'docker_hub', 'integrations.connect.dockerHub', 'failure'],
      ['org-b', 'huggingface', 'integrations.disconnect', 'success'],
      ['org-b', 'docker_hub', 'integrations.connect.dockerHub', 'success'],
      ['org-c', 'huggingface', 'integrations.disconnect', 'failure'],
      ['org-a', 'huggingface', 'integrations.disconnect', 'success'],
    ].map(([orgId, kind, action, outcome]) => ({
      runId: newRunId(),
      actor: 'alice',
      action: action as string,
      phase: 'event',
      outcome: outcome as AuditInput['outcome'],
      orgId,
      kind,
    }));
    for (const [i, row] of rows.entries()) await appendAudit(store.db, row, `2031-05-0${i + 1}T10:00:00Z`);
    return (await listAudit(store.db, {}, { limit: 100 })).reverse();
  }
  const seqs = (rows: AuditRow[]) => rows.map((r) => r.seq);

  it('lists newest first; each filter narrows, and filters combine', async () => {
    const all = await log();
    const [s1, s2, s3, s4, s5, s6] = seqs(all);
    const list = async (filter: Parameters<typeof listAudit>[1]) =>
      seqs(await listAudit(store.db, filter, { limit: 100 }));
    expect(await list({})).toEqual([s6, s5, s4, s3, s2, s1]);
    expect(await list({ orgId: 'org-a' })).toEqual([s6, s2, s1]);
    expect(await list({ orgIds: ['org-b', 'org-c'] })).toEqual([s5, s4, s3]);
    expect(await list({ orgIds: [] })).toEqual([]);
    expect(await list({ kind: 'docker_hub' })).toEqual([s4, s2]);
    expect(await list({ action: 'integrations.disconnect' })).toEqual([s6, s5, s3]);
    expect(await list({ outcome: 'failure' })).toEqual([s5, s2]);
    expect(await list({ runId: all[2]!.runId })).toEqual([s3]);
    expect(await list({ from: '2031-05-03T10:00:00Z', to: '2031-05-05T10:00:00Z' })).toEqual([s5, s4, s3]);
    expect(await list({ orgId: 'org-a', kind: 'huggingface', outcome: 'success' })).toEqual([s6, s1]);
  });

  it('pages by seq: a page holds at most limit rows, the next starts below the last one seen', async () => {
    const [s1, s2, s3, s4, s5, s6] = seqs(await log());
    const first = await listAudit(store.db, {}, { limit: 4 });
    expect(seqs(first)).toEqual([s6, s5, s4, s3]);
    expect(seqs(await listAudit(store.db, {}, { beforeSeq: first.at(-1)!.seq, limit: 4 }))).toEqual([s2, s1]);
    expect(seqs(await listAudit(store.db, { orgId: 'org-a' }, { beforeSeq: s6!, limit: 4 }))).toEqual([s2, s1]);
  });

  it('reads rows after a seq in chain order, within [since, until) when given, and counts the chain', async () => {
    const [s1, s2, s3, s4, s5, s6] = seqs(await log());
    const between = async (after: number, limit: number, range = {}) =>
      seqs(await auditRowsBetween(store.db, after, limit, range));
    expect(await between(0, 100)).toEqual([s1, s2, s3, s4, s5, s6]);
    expect(await between(s2!, 2)).toEqual([s3, s4]);
    expect(await between(0, 100, { since: '2031-05-02T10:00:00Z', until: '2031-05-04T10:00:00Z' })).toEqual([s2, s3]);
    expect(await between(s3!, 100, { since: '2031-05-02T10:00:00Z' })).toEqual([s4, s5, s6]);
    expect(await countAudit(store.db)).toBe(6);
  });
});

describe('audit runs: an attempt opens its run, its outcome closes it', () => {
  const input = (runId: string, phase: 'attempt' | 'outcome', owner?: string): AuditInput => ({
    runId,
    actor: 'alice',
    action: 'integrations.disconnect',
    phase,
    outcome: phase === 'attempt' ? 'started' : 'success',
    ...(owner ? { owner } : {}),
  });

  it('names this process as the owner unless told otherwise, and lists open runs a page at a time by run id', async () => {
    const ids = [newRunId(), newRunId(), newRunId()].sort();
    await appendAudit(store.db, input(ids[0]!, 'attempt'), NOW);
    await appendAudit(store.db, input(ids[1]!, 'attempt', 'elsewhere/1/abc'), NOW);
    await appendAudit(store.db, input(ids[2]!, 'attempt'), NOW);
    expect(processOwner()).toBe(processOwner());
    expect(processOwner()).toMatch(new RegExp(`^${hostname()}/${process.pid}/[0-9a-f]{12}$`));
    expect(await listOpenRuns(store.db, null, 2)).toEqual([
      { runId: ids[0], owner: processOwner(), openedAt: NOW },
      { runId: ids[1], owner: 'elsewhere/1/abc', openedAt: NOW },
    ]);
    expect((await listOpenRuns(store.db, ids[1]!, 2)).map((r) => r.runId)).toEqual([ids[2]]);
    expect(newRunId()).toMatch(/^run_[0-9a-f]{32}$/);
  });

  it('an outcome closes its run; a recovery outcome for a run already closed is not written', async () => {
    const runId = newRunId();
    const attemptRow = await appendAudit(store.db, input(runId, 'attempt'), NOW);
    expect(await attemptOf(store.db, runId)).toEqual(attemptRow);
    const outcome = await appendOutcomeIfOpen(store.db, input(runId, 'outcome'), NOW);
    expect(outcome).toMatchObject({ runId, phase: 'outcome', prevHash: attemptRow.hash });
    expect(await listOpenRuns(store.db, null, 10)).toEqual([]);
    expect(await appendOutcomeIfOpen(store.db, input(runId, 'outcome'), NOW)).toBeNull();
    // The run's own late outcome is still recorded (its verdict is not lost).
    expect(await appendAudit(store.db, input(runId, 'outcome'), NOW)).toMatchObject({ runId, phase: 'outcome' });
    expect(await countAudit(store.db)).toBe(3);
  });

  it('a run dropped from the open list is no longer open; an event neither opens nor closes one', async () => {
    const runId = newRunId();
    await appendAudit(store.db, input(runId, 'attempt'), NOW);
    for (const id of [runId, newRunId()])
      await appendAudit(store.db, { ...input(id, 'attempt'), phase: 'event', outcome: 'success' }, NOW);
    expect((await listOpenRuns(store.db, null, 10)).map((r) => r.runId)).toEqual([runId]);
    await dropOpenRun(store.db, runId);
    expect(await listOpenRuns(store.db, null, 10)).toEqual([]);
    expect(await attemptOf(store.db, newRunId())).toBeUndefined();
  });

  it('a row written without the optional fields stores nulls and an empty detail', async () => {
    const row = await appendAudit(
      store.db,
      { runId: newRunId(), actor: 'a', action: 'x', phase: 'event', outcome: 'success' },
      NOW,
    );
    expect(row).toMatchObject({
      clientIp: null,
      orgId: null,
      kind: null,
      credentialKey: null,
      detail: {},
      keyId: null,
      prevHash: GENESIS_HASH,
    });
  });
});

describe('audit chain: keys and the bound on retries', () => {
  it('a key is anchored by a row of the system’s own, linked under it; a recovery outcome is linked under it too', async () => {
    const keys = AuditKeyRing.fromEnv(generateKey());
    const runId = newRunId();
    const attempt = await appendAudit(
      store.db,
      { runId, actor: 'alice', action: 'x', phase: 'attempt', outcome: 'started' },
      NOW,
    );
    expect(await anchorAuditKey(store.db, keys, NOW)).toBe(true);
    const [anchor] = await listAudit(store.db, {}, { limit: 1 });
    expect(anchor).toMatchObject({
      actor: 'system:audit',
      clientIp: null,
      phase: 'event',
      outcome: 'success',
      orgId: null,
      prevHash: attempt.hash,
      keyId: keys.primary.id,
      detail: { anchor_seq: attempt.seq, anchor_link: attempt.hash },
    });
    const outcome = { runId, actor: 'alice', action: 'x', phase: 'outcome', outcome: 'success' } as const;
    expect(await appendOutcomeIfOpen(store.db, outcome, NOW, keys)).toMatchObject({ keyId: keys.primary.id });
    expect(await verifyAudit(store.db, { ring: keys, requireKeyed: true })).toMatchObject({ ok: true, checked: 3 });
  });

  it('an append whose tip another row already claims as its predecessor gives up after bounded tries', async () => {
    const rows = await chain(2);
    // prev_hash is unique: with the first row re-pointed at the tip, no row can be appended after it.
    tamper('UPDATE audit_events SET prev_hash = ? WHERE seq = ?', rows[1]?.hash, rows[0]?.seq);
    await expect(appendAudit(store.db, event(3), NOW)).rejects.toThrow(
      /UNIQUE constraint failed: audit_events\.prev_hash/,
    );
    expect(await countAudit(store.db)).toBe(2);
  });
});
