import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_RULE, ADDRESS_RULE, type Race, takeAll } from './race.takes';
import { insertAdminUser } from './repo/admin-users';
import { openStore } from './sqlite';

/*
 * Races that really race: this process and a child process, each with its own connection to one
 * SQLite file, start at the same instant and try to take what only a fixed number may have. Only
 * an atomic conditional write keeps the sum right; a read-then-write lets both through the same
 * gap. Each test also checks that both processes won something, so the race really happened.
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

/**
 * Both processes race from the same instant, once both have the file open. A run in which one of
 * them never got to take anything (descheduled on a busy machine) raced nothing: it is run again,
 * on a fresh file, up to three times.
 */
async function race(race: Race, rounds: number): Promise<{ here: string[]; there: string[] }> {
  let result = { here: [] as string[], there: [] as string[] };
  for (let run = 1; run <= 3; run++) {
    const file = join(dir, `${race}-${run}.db`);
    const store = openStore(file);
    try {
      const admins = race === 'account' ? rounds : 1;
      for (let i = 1; i <= admins; i++) {
        await insertAdminUser(
          store.db,
          { username: `user-${i}`, passwordHash: 'x', totpSecret: 'x', scopes: '' },
          'now',
        );
      }
      child.stdin.write(`${JSON.stringify({ file, race, rounds })}\n`);
      expect((await lines.next()).value).toBe('open');
      const startAt = Date.now() + 20;
      child.stdin.write(`${JSON.stringify({ startAt })}\n`);
      const here = await takeAll(store.db, race, rounds, startAt);
      const there = JSON.parse((await lines.next()).value as string) as string[];
      result = { here, there };
    } finally {
      store.close();
    }
    if (result.here.length > 0 && result.there.length > 0) break;
  }
  return result;
}

describe('two processes, one database file', () => {
  it('a TOTP time step is accepted once, whichever process presents it first', async () => {
    const { here, there } = await race('totp', 1000);
    const both = [...here, ...there];
    expect(new Set(both).size).toBe(both.length);
    expect(here.length).toBeGreaterThan(0);
    expect(there.length).toBeGreaterThan(0);
  });

  it('each account takes exactly its 5 attempts, however the processes interleave', async () => {
    const { here, there } = await race('account', 100);
    expect(here.length + there.length).toBe(100 * ACCOUNT_RULE.maxAttempts);
    expect(here.length).toBeGreaterThan(0);
    expect(there.length).toBeGreaterThan(0);
  });

  it('each address takes exactly its 20 attempts per window, however the processes interleave', async () => {
    const { here, there } = await race('address', 100);
    // How many each process wins depends on scheduling (on a busy machine one may start after the
    // other has finished); the total is the rule.
    expect(here.length + there.length).toBe(100 * ADDRESS_RULE.limit);
  });
});
