import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditInput, appendAudit, listAudit, listOpenRuns, openDatabase, type Store } from '@alphaswarm/db';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { refusal } from '../../test/refusal';
import { AppError } from '../errors';
import {
  type AuditSink,
  auditDenied,
  auditEvent,
  audited,
  auditedEvent,
  DenialThrottle,
  OutcomeBacklog,
  recoverAudit,
  startAuditRecovery,
} from './writer';

/*
 * The one audit writer, on a real SQLite file. A database that refuses writes is a second handle
 * on the same file that has been closed (what a full disk looks like to the writer: every write
 * throws); the log is read back through a handle that still works.
 */

const NOW = new Date('2031-03-01T10:00:00Z');
const WHO = { actor: 'alice', clientIp: '192.0.2.7' };

let dir: string;
let store: Store;
let broken: Store;
let logged: { level: 'warn' | 'error'; obj: object; msg: string }[];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audit-writer-'));
  store = await openDatabase({ dbPath: join(dir, 'admin.db') });
  broken = await openDatabase({ dbPath: join(dir, 'admin.db') });
  await broken.close();
  logged = [];
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const logger = {
  warn: (obj: object, msg: string) => logged.push({ level: 'warn', obj, msg }),
  error: (obj: object, msg: string) => logged.push({ level: 'error', obj, msg }),
};
const sink = (extra: Partial<AuditSink> = {}): AuditSink => ({
  db: store.db,
  now: () => NOW,
  logger,
  auditKeys: null,
  ...extra,
});
const rows = async () => (await listAudit(store.db, {}, { limit: 100 })).reverse();
const TARGET = { orgId: 'org-a', kind: 'huggingface', credentialKey: 'huggingface:org:org-a', detail: { n: 1 } };

describe('audited: audit first, fail closed', () => {
  it('commits the attempt before the action, then its outcome with what the result says', async () => {
    const seen: unknown[] = [];
    const appends: number[] = [];
    const result = await audited(
      sink({ metrics: { auditAppend: (s) => appends.push(s) } }),
      WHO,
      'integrations.disconnect',
      TARGET,
      async (runId) => {
        seen.push(
          runId,
          (await rows()).map((r) => [r.runId, r.phase]),
        );
        return { removed: 2 };
      },
      (r) => ({ removed: r.removed }),
    );
    expect(result).toEqual({ removed: 2 });
    const [attempt, outcome] = await rows();
    expect(seen).toEqual([attempt?.runId, [[attempt?.runId, 'attempt']]]);
    const where = { actor: 'alice', clientIp: '192.0.2.7', action: 'integrations.disconnect', orgId: 'org-a' };
    expect(attempt).toMatchObject({
      ...where,
      phase: 'attempt',
      outcome: 'started',
      detail: { n: 1 },
      at: '2031-03-01T10:00:00Z',
    });
    expect(outcome).toMatchObject({
      ...where,
      runId: attempt?.runId,
      kind: 'huggingface',
      credentialKey: 'huggingface:org:org-a',
      phase: 'outcome',
      outcome: 'success',
      detail: { n: 1, removed: 2 },
    });
    expect(appends).toHaveLength(2);
    // Seconds, not milliseconds: a local append takes well under three.
    for (const s of appends) expect(s).toBeGreaterThanOrEqual(0);
    for (const s of appends) expect(s).toBeLessThan(3);
    expect(await listOpenRuns(store.db, null, 10)).toEqual([]);
  });

  it('an action that fails gets a failure outcome naming its code, status and message, and its error is rethrown', async () => {
    const failure = new AppError('conflict', 'The integration changed meanwhile.');
    const thrown = await refusal(
      audited(sink(), WHO, 'integrations.disconnect', TARGET, async () => {
        throw failure;
      }),
    );
    expect(thrown).toBe(failure);
    const [, outcome] = await rows();
    expect(outcome).toMatchObject({
      phase: 'outcome',
      outcome: 'failure',
      detail: { n: 1, code: 'conflict', status: 409, message: 'The integration changed meanwhile.' },
    });
  });

  it('refuses the action when its attempt cannot be written: nothing runs, nothing is written', async () => {
    let ran = false;
    const error = await refusal(
      audited(sink({ db: broken.db }), WHO, 'integrations.disconnect', TARGET, async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(error.code).toBe('audit_unavailable');
    expect(error.message).toBe(
      'The audit log could not be written, so the action was refused and nothing changed. Check the database, then retry.',
    );
    expect(logged).toMatchObject([
      {
        level: 'error',
        msg: 'audit write failed; action refused',
        obj: { err: { message: expect.stringMatching(/./) }, action: 'integrations.disconnect' },
      },
    ]);
    expect(await rows()).toEqual([]);
  });

  it('an outcome the database refuses waits in the backlog, in order, and is written when it takes writes again', async () => {
    const outcomes = new OutcomeBacklog();
    let db = store.db;
    const s: AuditSink = {
      ...sink({ outcomes }),
      get db() {
        return db;
      },
    };
    await audited(s, WHO, 'integrations.disconnect', TARGET, async () => {
      db = broken.db;
    });
    expect(outcomes.size).toBe(1);
    expect(logged).toMatchObject([
      {
        level: 'error',
        msg: 'audit outcome write failed; kept to be written when the database takes writes again',
        obj: { err: { message: expect.stringMatching(/./) }, runId: expect.stringMatching(/^run_/), queued: true },
      },
    ]);
    expect(await outcomes.flush(broken.db, null)).toBe(1);
    expect(await outcomes.flush(store.db, null)).toBe(0);
    const [attempt, outcome] = await rows();
    expect(outcome).toMatchObject({ runId: attempt?.runId, phase: 'outcome', outcome: 'success' });
  });

  it('without a backlog an outcome that cannot be written is logged as not queued, and the action still answers', async () => {
    let db = store.db;
    const s: AuditSink = {
      ...sink(),
      get db() {
        return db;
      },
    };
    const answer = await audited(s, WHO, 'integrations.disconnect', TARGET, async () => {
      db = broken.db;
      return 'ok';
    });
    expect(answer).toBe('ok');
    expect(logged).toMatchObject([{ level: 'error', obj: { queued: false } }]);
  });
});

describe('OutcomeBacklog', () => {
  const outcome = (n: number): AuditInput => ({
    runId: `run_${n}`,
    actor: 'a',
    action: 'x',
    phase: 'outcome',
    outcome: 'success',
    detail: { n },
  });

  it('keeps at most max rows, dropping the oldest, and writes them oldest first with their own time', async () => {
    const backlog = new OutcomeBacklog(2);
    backlog.add(outcome(1), '2031-03-01T09:00:01Z');
    backlog.add(outcome(2), '2031-03-01T09:00:02Z');
    backlog.add(outcome(3), '2031-03-01T09:00:03Z');
    expect(backlog.size).toBe(2);
    expect(await backlog.flush(store.db, null)).toBe(0);
    expect((await rows()).map((r) => [r.runId, r.at])).toEqual([
      ['run_2', '2031-03-01T09:00:02Z'],
      ['run_3', '2031-03-01T09:00:03Z'],
    ]);
    expect(await backlog.flush(store.db, null)).toBe(0);
    expect(await rows()).toHaveLength(2);
  });
});

describe('auditEvent and auditDenied: tolerant, throttled per address', () => {
  it('writes a denial with its code and status and the target it is given; a target’s detail is not copied', async () => {
    await auditDenied(sink(), WHO, 'integrations.list', async () => TARGET, new AppError('invalid_token', 'No token.'));
    expect(await rows()).toMatchObject([
      {
        actor: 'alice',
        clientIp: '192.0.2.7',
        action: 'integrations.list',
        phase: 'denied',
        outcome: 'denied',
        orgId: 'org-a',
        kind: 'huggingface',
        detail: { code: 'invalid_token', status: 401 },
      },
    ]);
  });

  it('past the per-minute bound rows are counted, not written; the next written row carries the count', async () => {
    const s = sink({ denials: new DenialThrottle(2) });
    let targets = 0;
    const target = async () => {
      targets++;
      return {};
    };
    const denial = new AppError('invalid_token', 'No token.');
    for (let i = 0; i < 5; i++) await auditDenied(s, WHO, 'integrations.list', target, denial);
    expect(await rows()).toHaveLength(2);
    // A suppressed row never works out its target (which may read the request body).
    expect(targets).toBe(2);
    // Rows that must exist are written past the bound.
    await auditEvent(s, WHO, 'auth.lockout', { phase: 'event', outcome: 'failure', detail: {} }, { throttled: false });
    expect(await rows()).toHaveLength(3);
    const later = sink({ denials: s.denials, now: () => new Date(NOW.getTime() + 61_000) });
    await auditDenied(later, WHO, 'integrations.list', {}, denial);
    const all = await rows();
    expect(all.map((r) => r.detail)).toEqual([
      { code: 'invalid_token', status: 401 },
      { code: 'invalid_token', status: 401 },
      {},
      { code: 'invalid_token', status: 401, suppressed_since_last: 3 },
    ]);
  });

  it('never throws: a row the database refuses is logged, and so is a bound it cannot count', async () => {
    const s = sink({ db: broken.db, denials: new DenialThrottle() });
    await auditEvent(s, WHO, 'auth.lockout', { phase: 'event', outcome: 'failure', detail: {} });
    expect(logged).toMatchObject([
      {
        level: 'error',
        msg: 'denial bound not updated',
        obj: { err: { message: expect.stringMatching(/./) }, action: 'auth.lockout' },
      },
      {
        level: 'error',
        msg: 'audit write for auth.lockout failed',
        obj: { err: { message: expect.stringMatching(/./) }, action: 'auth.lockout' },
      },
    ]);
  });
});

describe('auditedEvent: one row that must exist before its effect', () => {
  it('writes the event, or refuses saying what was refused', async () => {
    await auditedEvent(sink(), WHO, 'auth.login', { method: 'totp' }, 'no token was issued');
    expect(await rows()).toMatchObject([{ phase: 'event', outcome: 'success', detail: { method: 'totp' } }]);
    const error = await refusal(auditedEvent(sink({ db: broken.db }), WHO, 'auth.login', {}, 'no token was issued'));
    expect(error).toMatchObject({
      code: 'audit_unavailable',
      message: 'The audit log could not be written, so no token was issued. Check the database, then retry.',
    });
    expect(logged).toMatchObject([
      {
        level: 'error',
        msg: 'audit write failed; no token was issued',
        obj: { err: { message: expect.stringMatching(/./) }, action: 'auth.login' },
      },
    ]);
  });
});

describe('recoverAudit', () => {
  it('writes the outcomes still held, then closes the runs of processes that are gone, and says so', async () => {
    const outcomes = new OutcomeBacklog();
    outcomes.add(
      { runId: 'run_held', actor: 'a', action: 'x', phase: 'outcome', outcome: 'success' },
      '2031-03-01T09:00:00Z',
    );
    const dead = 'elsewhere.invalid/1/000000000000';
    await appendAudit(
      store.db,
      { runId: 'run_dead', actor: 'a', action: 'x', phase: 'attempt', outcome: 'started', owner: dead },
      '2031-03-01T09:00:00Z',
    );
    expect(await recoverAudit({ db: store.db, auditKeys: null }, logger, { now: NOW, outcomes })).toEqual({
      waiting: 0,
      interrupted: ['run_dead'],
    });
    expect(logged).toMatchObject([
      {
        level: 'warn',
        obj: { count: 1, run_ids: ['run_dead'] },
        msg: '1 audited run(s) of a process that stopped had no outcome; recorded them as interrupted',
      },
    ]);
    expect(await recoverAudit({ db: store.db, auditKeys: null }, logger, { now: NOW })).toEqual({
      waiting: 0,
      interrupted: [],
    });
    expect(logged).toHaveLength(1);
  });

  it('a database that still refuses is logged and its outcomes left for the next pass', async () => {
    const outcomes = new OutcomeBacklog();
    outcomes.add(
      { runId: 'run_held', actor: 'a', action: 'x', phase: 'outcome', outcome: 'success' },
      '2031-03-01T09:00:00Z',
    );
    const result = await recoverAudit({ db: broken.db, auditKeys: null }, logger, { now: NOW, outcomes });
    expect(result).toEqual({ waiting: 1, interrupted: [] });
    expect(logged).toMatchObject([
      {
        level: 'error',
        msg: 'audit recovery could not write; retrying later',
        obj: { err: { message: expect.stringMatching(/./) } },
      },
      { level: 'warn', msg: '1 audit outcome(s) still wait for the database', obj: { count: 1 } },
    ]);
    const refused = await recoverAudit({ db: broken.db, auditKeys: null }, logger, { now: NOW });
    expect(refused).toEqual({ waiting: 0, interrupted: [] });
    expect(logged).toHaveLength(3);
  });

  it('a running recovery makes a last pass when stopped', async () => {
    const outcomes = new OutcomeBacklog();
    outcomes.add(
      { runId: 'run_held', actor: 'a', action: 'x', phase: 'outcome', outcome: 'success' },
      '2031-03-01T09:00:00Z',
    );
    const running = startAuditRecovery({ db: store.db, auditKeys: null, logger, now: () => NOW, outcomes }, 3_600_000);
    await running.stop();
    expect(outcomes.size).toBe(0);
    expect((await rows()).map((r) => r.runId)).toEqual(['run_held']);
  });
});

describe('the bounds of what is kept', () => {
  it('callers without an address share one budget', async () => {
    const s = sink({ denials: new DenialThrottle(2) });
    const denial = new AppError('invalid_token', 'No token.');
    for (let i = 0; i < 3; i++)
      await auditDenied(s, { actor: 'anonymous', clientIp: null }, 'integrations.list', {}, denial);
    expect(await rows()).toHaveLength(2);
    expect(logged).toEqual([]);
  });

  it('expired denial windows are pruned, at most once a minute', async () => {
    const throttle = new DenialThrottle(100);
    const windows = async () =>
      (await store.db.q.select().from(store.db.t.auditDenialWindows)).map((w) => w.address).sort();
    const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    await throttle.admit(store.db, 'a', at(0));
    await throttle.admit(store.db, 'b', at(30));
    expect(await windows()).toEqual(['a', 'b']);
    await throttle.admit(store.db, 'c', at(61));
    expect(await windows()).toEqual(['b', 'c']);
    // b has expired, but the last pruning was 39 s ago.
    await throttle.admit(store.db, 'd', at(100));
    expect(await windows()).toEqual(['b', 'c', 'd']);
    await throttle.admit(store.db, 'e', at(121));
    expect(await windows()).toEqual(['d', 'e']);
  });

  it('a recovery names at most 20 of the runs it closed in its log line, and counts them all', async () => {
    const dead = 'elsewhere.invalid/1/000000000000';
    for (let i = 0; i < 21; i++)
      await appendAudit(
        store.db,
        { runId: `run_dead_${i}`, actor: 'a', action: 'x', phase: 'attempt', outcome: 'started', owner: dead },
        '2031-03-01T09:00:00Z',
      );
    const { interrupted } = await recoverAudit({ db: store.db, auditKeys: null }, logger, { now: NOW });
    expect(interrupted).toHaveLength(21);
    const [line] = logged as { obj: { count: number; run_ids: string[] } }[];
    expect(line?.obj.count).toBe(21);
    expect(line?.obj.run_ids).toEqual(interrupted.slice(0, 20));
  });

  it('a running recovery passes every interval, one pass at a time', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const outcomes = new OutcomeBacklog();
      const held = (n: number): AuditInput => ({
        runId: `run_held_${n}`,
        actor: 'a',
        action: 'x',
        phase: 'outcome',
        outcome: 'success',
      });
      const running = startAuditRecovery({ db: store.db, auditKeys: null, logger, now: () => NOW, outcomes }, 1_000);
      outcomes.add(held(1), '2031-03-01T09:00:00Z');
      await vi.advanceTimersByTimeAsync(1_000);
      await vi.waitFor(() => expect(outcomes.size).toBe(0));
      outcomes.add(held(2), '2031-03-01T09:00:01Z');
      await vi.advanceTimersByTimeAsync(1_000);
      await vi.waitFor(() => expect(outcomes.size).toBe(0));
      await running.stop();
      expect((await rows()).map((r) => r.runId)).toEqual(['run_held_1', 'run_held_2']);
    } finally {
      vi.useRealTimers();
    }
  });
});
