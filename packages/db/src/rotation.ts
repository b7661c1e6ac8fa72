import { and, count, eq, inArray, isNotNull, ne } from 'drizzle-orm';
import { isoNow } from './clock';
import { InvalidToken, type Keyring } from './crypto/fernet';
import type { Database } from './database';
import { forgetAllSecrets, pageSecretLinks } from './repo/integrations';

/** Some stored secret is readable by no configured key; nothing was changed. */
export class UnreadableSecretsError extends Error {
  override readonly name = 'UnreadableSecretsError';
  constructor(readonly items: string[]) {
    const shown =
      items.length <= 10 ? items.join(', ') : `${items.slice(0, 10).join(', ')} and ${items.length - 10} more`;
    super(
      `${items.length} stored secret${items.length === 1 ? '' : 's'} cannot be decrypted with any configured key (${shown}); ` +
        'nothing was re-encrypted. Add the old key to ALPHASWARM_ADMIN_INTEGRATIONS_KEY (after the new one) and run again, ' +
        'or run forget-secrets if the old key is lost.',
    );
  }
}

export interface RotationResult {
  links: number;
  signingKeys: number;
  adminUsers: number;
  total: number;
}

const PAGE = 1000;

/**
 * Re-encrypt every stored secret under the keyring's first key, keeping each token's timestamp,
 * in one transaction. If any secret is unreadable, nothing changes and UnreadableSecretsError
 * names them (`<credential_key>`, `signing_key:<kid>`, `admin_user:<username>`).
 */
export async function rotateSecrets(
  db: Database,
  keyring: Keyring,
  opts: { now: Date; onProgress?: (done: number, total: number) => void },
): Promise<RotationResult> {
  const now = isoNow(opts.now);
  return db.write(async (tx) => {
    const { q, t } = tx;
    const counted = async (n: Promise<{ n: number }[]>) => (await n)[0]?.n ?? 0;
    const total =
      (await counted(q.select({ n: count() }).from(t.integrations).where(isNotNull(t.integrations.secret)))) +
      (await counted(q.select({ n: count() }).from(t.signingKeys))) +
      (await counted(q.select({ n: count() }).from(t.adminUsers)));
    const unreadable: string[] = [];
    let done = 0;
    const rotate = (token: string, label: string): string | undefined => {
      try {
        return keyring.rotate(token);
      } catch (error) {
        if (!(error instanceof InvalidToken)) throw error;
        unreadable.push(label);
        return undefined;
      }
    };
    const tick = () => {
      done++;
      if (done % PAGE === 0 || done === total) opts.onProgress?.(done, total);
    };

    // Each row is rewritten only if it still holds the ciphertext read (on PostgreSQL a connect
    // elsewhere may have replaced it meanwhile, under the current key: that one stays).
    let links = 0;
    let after: string | null = null;
    for (;;) {
      const rows = await pageSecretLinks(tx, after, PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        const next = rotate(row.secret, row.key);
        if (next !== undefined && unreadable.length === 0) {
          const changed = await q
            .update(t.integrations)
            .set({ secret: next, updatedAt: now })
            .where(and(eq(t.integrations.credentialKey, row.key), eq(t.integrations.secret, row.secret)))
            .returning({ key: t.integrations.credentialKey });
          links += changed.length;
        }
        tick();
      }
      after = rows[rows.length - 1]!.key;
    }

    let keys = 0;
    for (const row of await q
      .select({ kid: t.signingKeys.kid, privateKey: t.signingKeys.privateKey })
      .from(t.signingKeys)) {
      const next = rotate(row.privateKey, `signing_key:${row.kid}`);
      if (next !== undefined && unreadable.length === 0) {
        const changed = await q
          .update(t.signingKeys)
          .set({ privateKey: next })
          .where(and(eq(t.signingKeys.kid, row.kid), eq(t.signingKeys.privateKey, row.privateKey)))
          .returning({ kid: t.signingKeys.kid });
        keys += changed.length;
      }
      tick();
    }

    let users = 0;
    for (const row of await q
      .select({ username: t.adminUsers.username, totp: t.adminUsers.totpSecret })
      .from(t.adminUsers)) {
      const next = rotate(row.totp, `admin_user:${row.username}`);
      if (next !== undefined && unreadable.length === 0) {
        const changed = await q
          .update(t.adminUsers)
          .set({ totpSecret: next, updatedAt: now })
          .where(and(eq(t.adminUsers.username, row.username), eq(t.adminUsers.totpSecret, row.totp)))
          .returning({ username: t.adminUsers.username });
        users += changed.length;
      }
      tick();
    }

    // Throwing inside the transaction rolls back whatever was already re-encrypted.
    if (unreadable.length > 0) throw new UnreadableSecretsError(unreadable);
    return { links, signingKeys: keys, adminUsers: users, total: links + keys + users };
  });
}

/** Lost-key runbook: drop every link secret and mark those links needs_reconnect. */
export async function forgetSecrets(
  db: Database,
  opts: { now: Date },
): Promise<{ count: number; credentialKeys: string[] }> {
  const credentialKeys = await forgetAllSecrets(db, isoNow(opts.now));
  return { count: credentialKeys.length, credentialKeys };
}

export const SECRET_UNREADABLE_ERROR = {
  code: 'secret_unreadable',
  message:
    'The stored secret cannot be decrypted with the configured key(s); reconnect it or restore the key (ALPHASWARM_ADMIN_INTEGRATIONS_KEY).',
} as const;

/** Credential keys of links whose secret no configured key decrypts. */
export async function unreadableSecrets(db: Database, keyring: Keyring): Promise<string[]> {
  const found: string[] = [];
  let after: string | null = null;
  for (;;) {
    const rows = await pageSecretLinks(db, after, PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      try {
        keyring.decrypt(row.secret).fill(0);
      } catch (error) {
        if (!(error instanceof InvalidToken)) throw error;
        found.push(row.key);
      }
    }
    after = rows[rows.length - 1]!.key;
  }
  return found;
}

/**
 * Mark links whose secret cannot be decrypted as needs_reconnect (run at start-up). The
 * ciphertext is kept, so restoring the key and re-checking the link brings it back.
 * Returns the credential keys that were newly marked.
 */
export async function markUnreadableSecrets(db: Database, keyring: Keyring, now: Date): Promise<string[]> {
  const keys = await unreadableSecrets(db, keyring);
  if (keys.length === 0) return [];
  const at = isoNow(now);
  return db.write(async ({ q, t }) => {
    const marked: string[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await q
        .update(t.integrations)
        .set({ status: 'needs_reconnect', error: { ...SECRET_UNREADABLE_ERROR }, updatedAt: at })
        // Already flagged links keep their updated_at: a restart is not a change.
        .where(
          and(
            inArray(t.integrations.credentialKey, keys.slice(i, i + 500)),
            ne(t.integrations.status, 'needs_reconnect'),
          ),
        )
        .returning({ key: t.integrations.credentialKey });
      for (const row of rows) marked.push(row.key);
    }
    return marked;
  });
}
