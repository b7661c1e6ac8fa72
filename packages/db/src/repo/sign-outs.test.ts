import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dialect, twoHandles } from '../../test/stores';
import type { Store } from '../database';
import { insertAdminUser, setTokensValidAfter } from './admin-users';
import { signOutReader } from './sign-outs';

/*
 * "Sign out everywhere" as a replica reads it on every bearer call: always the database's current
 * answer on SQLite; on PostgreSQL an answer kept in memory until the database announces a change,
 * whoever makes it, and read afresh whenever the announcements cannot be heard.
 */

const T1 = '2026-12-01T10:00:00.000Z';
const T2 = '2026-12-01T11:00:00.000Z';
const T3 = '2026-12-01T12:00:00.000Z';

// Two handles on one database: the replica that reads (a) and another process that writes (b).
let handles: { a: Store; b: Store; close(): Promise<void> };
let n = 0;
let admin = '';
beforeAll(async () => {
  handles = await twoHandles();
});
afterAll(() => handles.close());
beforeEach(async () => {
  admin = `signer-${++n}`;
  await insertAdminUser(
    handles.b.db,
    { username: admin, passwordHash: `hash-${admin}`, totpSecret: `totp-${admin}`, scopes: 'admin:read' },
    T1,
  );
});

/** A change made where no trigger sees it: what only a read of the database can find. */
async function unannounced(at: string) {
  await handles.b.exec(sql`ALTER TABLE admin_users DISABLE TRIGGER admin_users_sign_out_row`);
  try {
    await handles.b.exec(sql`UPDATE admin_users SET tokens_valid_after = ${at} WHERE username = ${admin}`);
  } finally {
    await handles.b.exec(sql`ALTER TABLE admin_users ENABLE TRIGGER admin_users_sign_out_row`);
  }
}

/** Until `read` answers `want` (a notification is on its way), within two seconds. */
async function eventually(read: () => Promise<string | null>, want: string | null) {
  let last: string | null = null;
  for (const deadline = Date.now() + 2_000; Date.now() < deadline; ) {
    last = await read();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(last).toBe(want);
}

/** The reader's LISTEN connection (not `gone`), once it holds: PostgreSQL's own view of the backend. */
async function listener(gone = 0): Promise<number> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const [row] = await handles.b.exec(
      sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND state = 'idle' AND pid <> ${gone}`,
    );
    // The driver hands the LISTEN's answer to the reader on its next turn.
    if (row) return new Promise((r) => setTimeout(() => r(Number(row.pid)), 50));
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the reader never listened');
}

describe.runIf(dialect === 'sqlite')('on SQLite', () => {
  it('reads the database on every call: another process’s sign-out counts at once', async () => {
    const reader = signOutReader(handles.a);
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    await setTokensValidAfter(handles.b.db, admin, T2);
    expect(await reader.tokensValidAfter(admin)).toBe(T2);
  });
});

describe.runIf(dialect === 'postgres')('on PostgreSQL', () => {
  it('keeps an answer until the database announces a change, whoever writes it', async () => {
    const reader = signOutReader(handles.a);
    expect(signOutReader(handles.a)).toBe(reader);
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    await listener();
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    // Kept: a change nobody announces is not seen ...
    await unannounced(T2);
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    // ... and one that is (the repository's, then plain SQL) is, once its transaction commits.
    await setTokensValidAfter(handles.b.db, admin, T3);
    await eventually(() => reader.tokensValidAfter(admin), T3);
    await handles.b.exec(sql`UPDATE admin_users SET tokens_valid_after = ${T1} WHERE username = ${admin}`);
    await eventually(() => reader.tokensValidAfter(admin), T1);
    // A rolled-back change announces nothing that sticks.
    await expect(
      handles.b.db.write(async (tx) => {
        await setTokensValidAfter(tx, admin, T2);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await eventually(() => reader.tokensValidAfter(admin), T1);
  });

  it('a deleted admin, or every admin at once, is read afresh', async () => {
    const reader = signOutReader(handles.a);
    await listener();
    await unannounced(T2);
    await reader.tokensValidAfter(admin);
    await handles.b.exec(sql`DELETE FROM admin_users WHERE username = ${admin}`);
    await eventually(() => reader.tokensValidAfter(admin), null);
  });

  it('forget: this process’s own change is read afresh at once', async () => {
    const reader = signOutReader(handles.a);
    await listener();
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    await unannounced(T2);
    reader.forget(admin);
    expect(await reader.tokensValidAfter(admin)).toBe(T2);
  });

  it('without its LISTEN connection a replica reads the database on every call, until it is back', async () => {
    const reader = signOutReader(handles.a);
    const pid = await listener();
    expect(await reader.tokensValidAfter(admin)).toBeNull();
    await handles.b.exec(sql`SELECT pg_terminate_backend(${pid})`);
    // Lost: nothing kept can be trusted, so each call asks (a change nobody announces counts),
    // until the connection is back (half a second at the soonest).
    await unannounced(T2);
    await eventually(() => reader.tokensValidAfter(admin), T2);
    await unannounced(T3);
    expect(await reader.tokensValidAfter(admin)).toBe(T3);
    // Back (a new connection): kept again.
    await listener(pid);
    expect(await reader.tokensValidAfter(admin)).toBe(T3);
    await unannounced(T1);
    expect(await reader.tokensValidAfter(admin)).toBe(T3);
  });
});
