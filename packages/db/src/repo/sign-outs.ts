// When each admin last signed out everywhere, read on every bearer call. On SQLite that is a read
// of a local file; on PostgreSQL it was a second round trip per request, so there the answers are
// kept in memory while a LISTEN connection holds, each dropped by the notification that the
// transaction changing it sends (migration 0010_sign_out_notify), whoever writes it.
import type { Store } from '../database';
import type { PostgresStore } from '../postgres';
import { tokensValidAfter } from './admin-users';

/** The channel migration 0010_sign_out_notify announces changes on: a username, or '' for all. */
const CHANNEL = 'alphaswarm_sign_outs';
/** Admins whose answer is kept (the oldest read goes first). */
const MAX_ENTRIES = 10_000;

export interface SignOutReader {
  /** When `username` last signed out everywhere (RFC 3339), or null. */
  tokensValidAfter(username: string): Promise<string | null>;
  /**
   * This process has just changed `username`'s: read it from the database next time, without
   * waiting for the notification.
   */
  forget(username: string): void;
}

/**
 * A reader of `store`'s sign-outs. On PostgreSQL an answer is served from memory only while the
 * channel is heard, and only when no notification arrived while it was being read: a sign-out is
 * refused on every replica as soon as PostgreSQL delivers its notification, and a replica that
 * has lost its LISTEN connection reads the database on every call until it is back.
 */
export function signOutReader(store: Store): SignOutReader {
  let reader = readers.get(store);
  if (!reader) {
    reader = store.dialect === 'postgres' ? heard(store as PostgresStore) : plain(store);
    readers.set(store, reader);
  }
  return reader;
}

/** One per store: one LISTEN connection however many runtimes share it; closed with the store. */
const readers = new WeakMap<Store, SignOutReader>();

function plain(store: Store): SignOutReader {
  return {
    tokensValidAfter: (username) => tokensValidAfter(store.db, username),
    forget: () => undefined,
  };
}

function heard(store: PostgresStore): SignOutReader {
  const known = new Map<string, string | null>();
  let listening = false;
  // Moves on every notification and every change of state: a read that saw it move is not kept.
  let generation = 0;
  const forget = (username: string) => {
    generation++;
    if (username === '') known.clear();
    else known.delete(username);
  };
  // Opened on the first read (a CLI command that never verifies a token opens no connection);
  // closed with the store.
  let heard = false;
  return {
    async tokensValidAfter(username) {
      if (!heard) {
        heard = true;
        store.listen(CHANNEL, {
          message: forget,
          state: (up) => {
            listening = up;
            forget('');
          },
        });
      }
      // Only ever filled while listening, and emptied whenever that starts or stops.
      if (known.has(username)) return known.get(username) ?? null;
      const seen = generation;
      const at = await tokensValidAfter(store.db, username);
      if (listening && seen === generation) {
        if (known.size >= MAX_ENTRIES) known.delete(known.keys().next().value as string);
        known.set(username, at);
      }
      return at;
    },
    forget,
  };
}
