import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialect, testStore } from '../test/stores';
import { closeInterruptedRuns, ownerIsAlive } from './audit-recovery';
import type { Store } from './database';
import { appendAudit, listAudit, listOpenRuns, newRunId, processOwner, verifyAudit } from './repo/audit';

const NOW = new Date('2026-05-27T20:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Above Linux's pid_max: never a live process. */
const DEAD_PID = 2 ** 22 + 7;

let store: Store;
beforeEach(async () => {
  store = await testStore();
});
afterEach(() => store.close());

async function attempt(owner: string, openedAt = at(0)): Promise<string> {
  const runId = newRunId();
  await appendAudit(
    store.db,
    {
      runId,
      actor: 'alice',
      clientIp: '10.0.0.1',
      action: 'integrations.disconnect',
      phase: 'attempt',
      outcome: 'started',
      orgId: 'org-a',
      kind: 'huggingface',
      credentialKey: 'huggingface:org:org-a',
      owner,
    },
    openedAt,
  );
  return runId;
}

describe('closeInterruptedRuns', () => {
  it('gives every run of a gone process one interrupted outcome and leaves live ones open', async () => {
    const host = hostname();
    const dead = await attempt(`${host}/${DEAD_PID}/aaaa`);
    const earlierSelf = await attempt(`${host}/${process.pid}/not-this-one`);
    const unknown = await attempt('');
    const parent = await attempt(`${host}/${process.ppid}/bbbb`);
    const elsewhere = await attempt('other-host/42/cccc');
    const elsewhereLongAgo = await attempt('other-host/43/dddd', at(-2 * 3600_000));
    const mine = await attempt(processOwner());
    const finished = await attempt(`${host}/${DEAD_PID}/eeee`);
    await appendAudit(
      store.db,
      { runId: finished, actor: 'alice', action: 'integrations.disconnect', phase: 'outcome', outcome: 'success' },
      at(1),
    );

    const closed = await closeInterruptedRuns(store.db, { now: new Date(NOW.getTime() + 60_000) });
    expect(new Set(closed)).toEqual(new Set([dead, earlierSelf, unknown, elsewhereLongAgo]));
    expect(new Set((await listOpenRuns(store.db, null, 100)).map((r) => r.runId))).toEqual(
      new Set([parent, elsewhere, mine]),
    );

    const outcome = (await listAudit(store.db, { runId: dead }, { limit: 10 }))[0]!;
    expect(outcome).toMatchObject({
      phase: 'outcome',
      outcome: 'failure',
      actor: 'alice',
      clientIp: '10.0.0.1',
      action: 'integrations.disconnect',
      orgId: 'org-a',
      kind: 'huggingface',
      credentialKey: 'huggingface:org:org-a',
      detail: { code: 'interrupted', recorded_by: 'recovery', opened_at: at(0) },
    });
    // A second pass (another process recovering at the same time) adds nothing.
    expect(await closeInterruptedRuns(store.db, { now: new Date(NOW.getTime() + 60_000) })).toEqual([]);
    expect(await listAudit(store.db, { outcome: 'failure' }, { limit: 100 })).toHaveLength(4);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 13 });
  });

  it('a late outcome from the run itself is still recorded after recovery closed it', async () => {
    const runId = await attempt(`${hostname()}/${DEAD_PID}/aaaa`);
    await closeInterruptedRuns(store.db, { now: NOW });
    await appendAudit(store.db, { runId, actor: 'alice', action: 'x', phase: 'outcome', outcome: 'success' }, at(5));
    expect((await listAudit(store.db, { runId }, { limit: 10 })).map((r) => r.outcome)).toEqual([
      'success',
      'failure',
      'started',
    ]);
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });
});

describe('ownerIsAlive', () => {
  it('asks the OS on this host and trusts nothing it cannot check', () => {
    expect(ownerIsAlive(processOwner())).toBe(true);
    expect(ownerIsAlive(`${hostname()}/${process.pid}/another`)).toBe(false);
    expect(ownerIsAlive(`${hostname()}/${DEAD_PID}/x`)).toBe(false);
    expect(ownerIsAlive('')).toBe(false);
    expect(ownerIsAlive('elsewhere/1/x')).toBe(true);
  });
});

// PostgreSQL databases never existed without audit_open_runs: there is nothing to backfill.
describe.runIf(dialect === 'sqlite')('migration', () => {
  it('registers attempts written before audit_open_runs existed', async () => {
    const orphan = await attempt('');
    const done = await attempt('');
    await appendAudit(store.db, { runId: done, actor: 'a', action: 'x', phase: 'outcome', outcome: 'success' }, at(1));
    // Forget the open runs, as a database from before the table, and apply the backfill again
    // (later migrations keep it from being the newest, so the migrator cannot be asked to redo it).
    await store.exec(sql`DELETE FROM audit_open_runs`);
    const backfill = readFileSync(
      new URL('../migrations/sqlite/0004_audit_open_runs_backfill.sql', import.meta.url),
      'utf8',
    );
    await store.exec(sql.raw(backfill));
    expect(await listOpenRuns(store.db, null, 10)).toEqual([{ runId: orphan, owner: '', openedAt: at(0) }]);
  });
});
