import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, dialect } from '../test/stores';
import { ACCOUNT_RULE, ADDRESS_RULE, type Race, takeAll } from './race.takes';
import { insertAdminUser } from './repo/admin-users';
import { openDatabase, type StoreConfig } from './store';
import { createTestDatabase } from './testing/postgres';

/*
 * Races that really race: this process and a child process, each with its own connection to one
 * database (a SQLite file, or a PostgreSQL database), start at the same instant and try to take
 * what only a fixed number may have. Only an atomic conditional write keeps the sum right; a
 * read-then-write lets both through the same gap. The TOTP race also checks that both processes won
 * something, so the race really happened.
 */

let dir: string;
let child: ChildProcessWithoutNullStreams;
let lines: AsyncIterator<string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'race-'));
  child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'race.child.ts')], { stdio: 'pipe' });
  lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
});
afterAll(() => {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh database of this project's dialect, both processes' connections to it, and how to drop it. */
async function freshDatabase(name: string): Promise<{ config: StoreConfig; drop(): Promise<void> }> {
  const dbPath = join(dir, `${name}.db`);
  if (dialect === 'sqlite') return { config: { dbPath }, drop: async () => {} };
  const database = await createTestDatabase(cluster());
  return { config: { dbPath, databaseUrl: database.url, pool: 1 }, drop: database.drop };
}

/**
 * Both processes race from the same instant, once both have the database open. A run in which one
 * of them never got to take anything (descheduled on a busy machine) raced nothing: it is run
 * again, on a fresh database, up to three times.
 */
async function race(race: Race, rounds: number): Promise<{ here: string[]; there: string[] }> {
  let result = { here: [] as string[], there: [] as string[] };
  for (let run = 1; run <= 3; run++) {
    const { config, drop } = await freshDatabase(`${race}-${run}`);
    const store = await openDatabase(config);
    try {
      const admins = race === 'account' ? rounds : 1;
      for (let i = 1; i <= admins; i++) {
        await insertAdminUser(
          store.db,
          { username: `user-${i}`, passwordHash: 'x', totpSecret: 'x', scopes: '' },
          'now',
        );
      }
      child.stdin.write(`${JSON.stringify({ config, race, rounds })}\n`);
      expect((await lines.next()).value).toBe('open');
      // Far enough ahead that the child has the start time before it comes, even on a busy machine.
      const startAt = Date.now() + 300;
      child.stdin.write(`${JSON.stringify({ startAt })}\n`);
      const here = await takeAll(store.db, race, rounds, startAt);
      const there = JSON.parse((await lines.next()).value as string) as string[];
      result = { here, there };
    } finally {
      await store.close();
      await drop();
    }
    if (result.here.length > 0 && result.there.length > 0) break;
  }
  return result;
}

// A PostgreSQL database costs more to create and open, and a round trip more than a SQLite write:
// fewer rounds keep it to a few seconds, still enough for both processes to meet in the same gap
// (planted as read-then-write, the TOTP claim let 170 claims through for 100 steps and the
// account reservation 114 attempts for 100).
const ROUNDS = dialect === 'sqlite' ? { totp: 1000, account: 100 } : { totp: 100, account: 20 };

describe('two processes, one database', () => {
  it('a TOTP time step is accepted once, whichever process presents it first', async () => {
    const { here, there } = await race('totp', ROUNDS.totp);
    const both = [...here, ...there];
    // Each step went to exactly one of them: never both, and never neither. Who wins how many is
    // scheduling, as in the account race below: on CI one process took all 1,000 steps in each of
    // the three runs (SQLite's writer kept the other waiting), on PostgreSQL once the other one.
    expect(new Set(both).size).toBe(both.length);
    expect(both.length).toBe(ROUNDS.totp);
  });

  it('each account takes exactly its 5 attempts, however the processes interleave', async () => {
    const { here, there } = await race('account', ROUNDS.account);
    // The total is the rule. Who wins how many is scheduling: on SQLite a process writing in a
    // tight loop can keep the other's busy handler waiting through three runs (seen on CI), so
    // unlike the TOTP race (ten times the rounds) this one does not also demand that both won.
    expect(here.length + there.length).toBe(ROUNDS.account * ACCOUNT_RULE.maxAttempts);
  });

  // The same atomic reservation as an account's, on another table: on PostgreSQL the two above
  // (issue 17) are worth their seconds, a third of the same shape is not.
  it.runIf(dialect === 'sqlite')(
    'each address takes exactly its 20 attempts per window, however the processes interleave',
    async () => {
      const { here, there } = await race('address', 100);
      // How many each process wins depends on scheduling (on a busy machine one may start after the
      // other has finished); the total is the rule.
      expect(here.length + there.length).toBe(100 * ADDRESS_RULE.limit);
    },
  );
});
