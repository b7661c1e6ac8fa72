// The one console module that touches the database (see boundaries.test.ts): the console's
// sessions live in the API's database so that any console replica can serve any request and a
// restart signs nobody out. Rows are keyed by the SHA-256 of the cookie's id and their data is
// sealed with the console key, which the API never holds.
import { createHash } from 'node:crypto';
import {
  claimConsoleRefresh,
  deleteConsoleSession,
  generateKey,
  InvalidToken,
  insertConsoleSession,
  Keyring,
  openDatabase,
  pruneConsoleSessions,
  readConsoleSession,
  releaseConsoleRefresh,
  type Store,
  type StoreConfig,
  touchConsoleSession,
  updateConsoleSession,
} from '@alphaswarm/db';

/** A session as stored: its times and version in clear, the rest sealed. */
export interface StoredSession {
  createdAt: number;
  lastSeen: number;
  version: number;
  data: Record<string, unknown>;
}

export interface ClientSeen {
  address: string | null;
  userAgent: string | null;
}

const USER_AGENT_MAX = 256;
const PRUNE_EVERY_MS = 60_000;

export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly store: Store,
    private readonly keyring: Keyring,
    /** Milliseconds since the epoch; injected so tests move time without sleeping. */
    readonly now: () => number = () => Date.now(),
  ) {}

  /** Open the configured database (migrated, as the API does) with the console key or an ephemeral one. */
  static async open(opts: { database: StoreConfig; key: string | undefined }): Promise<SessionStore> {
    let key = opts.key;
    if (!key) {
      console.warn(
        'ALPHASWARM_CONSOLE_SESSION_KEY is not set: sessions are sealed with a throwaway key and will not survive a restart.',
      );
      key = generateKey();
    }
    return new SessionStore(await openDatabase(opts.database), Keyring.fromEnv(key));
  }

  /** The session, or null when there is none, it expired, or it cannot be unsealed (tampered, another key). */
  async read(id: string): Promise<StoredSession | null> {
    const row = await readConsoleSession(this.store.db, hashId(id), new Date(this.now()));
    if (!row) return null;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(this.keyring.decrypt(row.data).toString('utf8'));
    } catch (error) {
      if (error instanceof InvalidToken || error instanceof SyntaxError) return null;
      throw error;
    }
    return { createdAt: Date.parse(row.createdAt), lastSeen: Date.parse(row.lastSeenAt), version: row.version, data };
  }

  async insert(
    id: string,
    row: { createdAt: number; expiresAt: number; subject: string | null; data: object },
    seen: ClientSeen,
  ): Promise<void> {
    await insertConsoleSession(this.store.db, {
      idHash: hashId(id),
      subject: row.subject,
      createdAt: new Date(row.createdAt),
      expiresAt: new Date(row.expiresAt),
      address: seen.address,
      userAgent: seen.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      data: this.seal(row.data),
    });
  }

  /** Compare-and-set: the new version, or undefined when another writer got there first. */
  update(id: string, version: number, subject: string | null, data: object): Promise<number | undefined> {
    return updateConsoleSession(this.store.db, hashId(id), version, { data: this.seal(data), subject });
  }

  async touch(id: string, expiresAt: number, seen: ClientSeen): Promise<void> {
    await touchConsoleSession(this.store.db, hashId(id), {
      at: new Date(this.now()),
      expiresAt: new Date(expiresAt),
      address: seen.address,
      userAgent: seen.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
    });
  }

  delete(id: string): Promise<void> {
    return deleteConsoleSession(this.store.db, hashId(id));
  }

  claimRefresh(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.now();
    return claimConsoleRefresh(this.store.db, hashId(id), owner, new Date(now), new Date(now + leaseMs));
  }

  releaseRefresh(id: string, owner: string): Promise<void> {
    return releaseConsoleRefresh(this.store.db, hashId(id), owner);
  }

  prune(): Promise<number> {
    this.#prunedAt = this.now();
    return pruneConsoleSessions(this.store.db, new Date(this.now()));
  }

  /** Prune expired rows, at most once a minute per process (called as sessions start). */
  async pruneSometimes(): Promise<void> {
    if (this.now() - this.#prunedAt >= PRUNE_EVERY_MS) await this.prune();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private seal(data: object): string {
    return this.keyring.encrypt(JSON.stringify(data));
  }
}
