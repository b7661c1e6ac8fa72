import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeInterruptedRuns, ownerIsAlive } from './audit-recovery';
import { appendAudit, listAudit, listOpenRuns, newRunId, processOwner, verifyAudit } from './repo/audit';
import { openStore, type Store } from './sqlite';

const MIGRATIONS = join(import.meta.dirname, '../migrations');

const NOW = new Date('2026-05-27T20:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Above Linux's pid_max: never a live process. */
const DEAD_PID = 2 ** 22 + 7;

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recovery-'));
  store = openStore(join(dir, 'admin.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

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

describe('migration', () => {
  it('registers attempts written before audit_open_runs existed', async () => {
    const orphan = await attempt('');
    const done = await attempt('');
    await appendAudit(store.db, { runId: done, actor: 'a', action: 'x', phase: 'outcome', outcome: 'success' }, at(1));
    // Forget the open runs and the migration that backfills them (and those after it, with their
    // tables), as a database from before it.
    store.sqlite.exec('DELETE FROM audit_open_runs');
    const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
      entries: { tag: string; when: number }[];
    };
    const from = journal.entries.findIndex((e) => e.tag.endsWith('_audit_open_runs_backfill'));
    for (const later of journal.entries.slice(from + 1)) {
      const sql = readFileSync(join(MIGRATIONS, `${later.tag}.sql`), 'utf8');
      for (const [, table] of sql.matchAll(/CREATE TABLE `(\w+)`/g)) store.sqlite.exec(`DROP TABLE ${table}`);
    }
    store.sqlite
      .prepare('DELETE FROM __drizzle_migrations WHERE created_at >= ?')
      .run(journal.entries[from]?.when ?? Number.POSITIVE_INFINITY);
    store.close();
    store = openStore(join(dir, 'admin.db'));
    expect(await listOpenRuns(store.db, null, 10)).toEqual([{ runId: orphan, owner: '', openedAt: at(0) }]);
  });
});
