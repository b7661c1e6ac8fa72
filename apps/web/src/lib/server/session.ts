import { randomBytes } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import { isPendingAction, type PendingAction } from './action';
import type { ImportReport } from './api';
import { consoleEnv } from './env';
import type { FormFailure } from './pending';
import { type ClientSeen, hashId, SessionStore, type StoredSession } from './session-store';
import type { SsoAttempt } from './sso';

/** A one-shot message for the next page rendered (post/redirect/get). */
export interface Flash {
  notice?: { text: string; run_id?: string };
  /** A failure of an action replayed after a step-up, shown next to the form it came from. */
  failure?: FormFailure;
  importReport?: ImportReport & { dry_run: boolean; filename: string };
  /** A disconnect's outcome, shown once on its result page. */
  disconnected?: { kind: string; credential_key: string; revocation_guidance: string; audit_run_id: string };
  /** New recovery codes, shown once: only their hashes are kept by the API. */
  recoveryCodes?: string[];
  /** A hand-off link, shown once: only its hash is kept by the API. */
  shareLink?: { share_id: string; url: string; expires_at: string };
  /** A new notification endpoint's signing secret, shown once: the API keeps it encrypted and never answers it again. */
  endpointSecret?: { id: string; name: string; secret: string };
}

export interface Session {
  id: string;
  createdAt: number;
  lastSeen: number;
  username: string | null;
  /** The admin's tokens. Never leave the server. */
  tokens: {
    access: string;
    refresh: string;
    accessExpiresAt: number;
    /** Who issued them: the embedded IdP (refresh and step-up through the API) or the company's IdP. */
    source: 'embedded' | 'sso';
  } | null;
  /** An SSO sign-in or step-up in flight: its state, nonce and PKCE verifier, used once. */
  sso: SsoAttempt | null;
  /** Why the last SSO round trip was refused, shown once on the sign-in or step-up page. */
  ssoError: string | null;
  /** Between the password and the TOTP steps of sign-in. */
  login: { mfaToken: string; expiresAt: number } | null;
  /** A mutation waiting for a step-up, with its input (possibly a PAT): held here, never sent to the browser. */
  pending: { action: PendingAction; expiresAt: number } | null;
  flash: Flash | null;
  /** A store export made after a step-up, offered once for download (ciphertext only, but still kept off pages). */
  download: { filename: string; content: string } | null;
}

/*
 * Sessions live in the database (session-store.ts), so any console replica serves any request
 * and a restart signs nobody out. hooks.server.ts loads the request's session once
 * (`loadSession`) and writes it back once at the end (`saveSession`), only when the request
 * changed it: a compare-and-set on the row's version, and on conflict a merge onto what another
 * request or replica wrote meanwhile. Handlers keep working on the `Session` object in place;
 * `startSession` and `endSession` record what to write.
 */

/** Last-seen writes at most this often: a request in between changes nothing in the database. */
const TOUCH_EVERY_MS = 60_000;
/** How long one refresh may hold a session's refresh lease, and how often a waiting request looks again. */
const REFRESH_LEASE_MS = 15_000;
const REFRESH_POLL_MS = 100;

/** What one request does with its session. */
interface Scope {
  store: Promise<SessionStore>;
  seen: ClientSeen;
  /** The session this request works on: the one loaded, or one started during the request. */
  current: Session | null;
  /** Its data as last read from or written to the database, to tell what this request changed. */
  base: SessionData | null;
  version: number;
  /** Started during this request: not in the database yet. */
  fresh: boolean;
  /** Ids ended during this request (signed out, or replaced by a new id). */
  ended: string[];
  /** One refresh per request, shared by its concurrent loads. */
  refreshing: Promise<void> | null;
}

type SessionData = Omit<Session, 'id' | 'createdAt' | 'lastSeen'>;

const scopes = new WeakMap<Cookies, Scope>();
const scopeOfSession = new WeakMap<Session, Scope>();

let opened: Promise<SessionStore> | null = null;

/** This process's session store, opened once from the configuration. */
export function sessionStore(): Promise<SessionStore> {
  opened ??= SessionStore.open({
    database: consoleEnv().database,
    key: consoleEnv().ALPHASWARM_CONSOLE_SESSION_KEY,
  }).catch((error) => {
    opened = null;
    throw error;
  });
  return opened;
}

export function cookieName(): string {
  return consoleEnv().secureCookies ? '__Host-as_session' : 'as_session';
}

/** When a session seen at `lastSeen` ends: the idle limit, or the absolute one, whichever is first. */
function expiryOf(createdAt: number, lastSeen: number): number {
  const env = consoleEnv();
  return Math.min(
    lastSeen + env.ALPHASWARM_CONSOLE_SESSION_IDLE * 1000,
    createdAt + env.ALPHASWARM_CONSOLE_SESSION_MAX * 1000,
  );
}

function setCookie(cookies: Cookies, id: string): void {
  // No Max-Age: the cookie dies with the browser; the server enforces idle and absolute limits.
  cookies.set(cookieName(), id, { path: '/', httpOnly: true, sameSite: 'strict', secure: consoleEnv().secureCookies });
}

function dropCookie(cookies: Cookies): void {
  cookies.delete(cookieName(), { path: '/', secure: consoleEnv().secureCookies });
}

function scopeFor(cookies: Cookies, store?: SessionStore, seen?: ClientSeen): Scope {
  let scope = scopes.get(cookies);
  if (!scope) {
    scope = {
      store: store ? Promise.resolve(store) : sessionStore(),
      seen: seen ?? { address: null, userAgent: null },
      current: null,
      base: null,
      version: 0,
      fresh: false,
      ended: [],
      refreshing: null,
    };
    scopes.set(cookies, scope);
  }
  return scope;
}

function empty(): SessionData {
  return {
    username: null,
    tokens: null,
    sso: null,
    ssoError: null,
    login: null,
    pending: null,
    flash: null,
    download: null,
  };
}

function dataOf(session: Session): SessionData {
  const { id: _id, createdAt: _created, lastSeen: _seen, ...data } = session;
  return JSON.parse(JSON.stringify(data));
}

/** JSON with sorted keys: two equal values always compare equal, whatever order built them. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

/**
 * Three-way merge of a session written meanwhile by another request or replica (`theirs`) with
 * this request's changes (`ours`, both from `base`): what this request changed wins, the rest is
 * theirs. Flash messages merge by key, so a message written elsewhere is not lost when this
 * request shows (takes) the ones it read.
 */
function merge(base: SessionData, ours: SessionData, theirs: SessionData): SessionData {
  const merged: Record<string, unknown> = { ...theirs };
  for (const key of new Set([...Object.keys(base), ...Object.keys(ours)])) {
    const k = key as keyof SessionData;
    if (k === 'flash') continue;
    if (!same(ours[k], base[k])) merged[k] = ours[k];
  }
  const flash: Record<string, unknown> = {};
  const keyed = (f: Flash | null) => ({ ...f }) as Record<string, unknown>;
  const [b, o, t] = [keyed(base.flash), keyed(ours.flash), keyed(theirs.flash)];
  for (const k of new Set([...Object.keys(b), ...Object.keys(o), ...Object.keys(t)])) {
    // A message written elsewhere since this request read the session is one it has not shown.
    const theirsChanged = !same(t[k], b[k]);
    const oursChanged = !same(o[k], b[k]);
    const value = theirsChanged && !(oursChanged && o[k] !== undefined) ? t[k] : o[k];
    if (value !== undefined) flash[k] = value;
  }
  merged.flash = Object.keys(flash).length ? flash : null;
  return merged as unknown as SessionData;
}

/**
 * The request's session from its cookie, or null (none, expired, or unreadable). Called once per
 * request by hooks.server.ts; `store` is the process's unless given.
 */
export async function loadSession(cookies: Cookies, seen: ClientSeen, store?: SessionStore): Promise<Session | null> {
  const scope = scopeFor(cookies, store, seen);
  const id = cookies.get(cookieName());
  if (!id) return null;
  const s = await scope.store;
  const stored = await s.read(id);
  const now = s.now();
  if (!stored || now >= expiryOf(stored.createdAt, stored.lastSeen)) {
    if (stored) scope.ended.push(id);
    dropCookie(cookies);
    return null;
  }
  const session = { ...empty(), ...stored.data, id, createdAt: stored.createdAt, lastSeen: now } as Session;
  attach(scope, session, stored);
  if (now - stored.lastSeen >= TOUCH_EVERY_MS) await s.touch(id, expiryOf(stored.createdAt, now), scope.seen);
  // An action of a shape this console does not know (stored by an older one) is expired too: the admin submits it again.
  if (session.pending && (session.pending.expiresAt < now || !isPendingAction(session.pending.action))) {
    session.pending = null;
  }
  return session;
}

function attach(scope: Scope, session: Session, stored: StoredSession | null): void {
  scope.current = session;
  scope.fresh = stored === null;
  scope.base = stored ? ({ ...empty(), ...stored.data } as SessionData) : null;
  scope.version = stored?.version ?? 0;
  scopeOfSession.set(session, scope);
}

/** How the database (and the API's session list) names a session: never its id. */
export function sessionHash(session: Session): string {
  return hashId(session.id);
}

/** The session this request works on (after `loadSession`, or one started during the request). */
export function readSession(cookies: Cookies): Session | null {
  return scopes.get(cookies)?.current ?? null;
}

/**
 * A fresh session under a new id (also on every privilege change, so an id seen before sign-in
 * is worthless after it). The old one, if any, is dropped.
 */
export function startSession(cookies: Cookies, previous: Session | null, init: Partial<Session> = {}): Session {
  const scope = scopeFor(cookies);
  if (previous) forget(scope, previous);
  const now = Date.now();
  const session: Session = {
    ...empty(),
    id: randomBytes(32).toString('base64url'),
    createdAt: now,
    lastSeen: now,
    ...init,
  };
  attach(scope, session, null);
  setCookie(cookies, session.id);
  return session;
}

function forget(scope: Scope, session: Session): void {
  const inDatabase = !(scope.current === session && scope.fresh);
  if (inDatabase) scope.ended.push(session.id);
  if (scope.current === session) scope.current = null;
}

export function endSession(cookies: Cookies, session: Session | null): void {
  if (session) forget(scopeFor(cookies), session);
  dropCookie(cookies);
}

/** Who the API's audit names: `sub` of an embedded-IdP token, `<iss>#<sub>` of an SSO one. */
function subjectOf(data: SessionData): string | null {
  const tokens = data.tokens;
  if (!tokens) return null;
  try {
    const claims = JSON.parse(Buffer.from(tokens.access.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (typeof claims.sub === 'string') {
      return tokens.source === 'sso' && typeof claims.iss === 'string' ? `${claims.iss}#${claims.sub}` : claims.sub;
    }
  } catch {
    // Not a JWT: named by the username typed at sign-in.
  }
  return data.username;
}

/** Take what another request or replica wrote into this request's session, keeping this request's changes. */
function pull(scope: Scope, session: Session, stored: StoredSession): void {
  const theirs = { ...empty(), ...stored.data } as SessionData;
  Object.assign(session, merge(scope.base ?? empty(), dataOf(session), theirs));
  scope.base = theirs;
  scope.version = stored.version;
}

/** Write this request's changes; false when the session is gone (signed out elsewhere, expired). */
async function writeChanges(scope: Scope, session: Session): Promise<boolean> {
  const store = await scope.store;
  for (let attempt = 0; attempt < 8; attempt++) {
    const ours = dataOf(session);
    if (scope.base && same(ours, scope.base)) return true;
    const version = await store.update(session.id, scope.version, subjectOf(ours), ours);
    if (version !== undefined) {
      scope.base = ours;
      scope.version = version;
      return true;
    }
    const stored = await store.read(session.id);
    if (!stored) return false;
    pull(scope, session, stored);
  }
  throw new Error('The console session is being changed by too many requests at once; retry.');
}

/** Write the request's session back, once, at the end of the request (hooks.server.ts). */
export async function saveSession(cookies: Cookies): Promise<void> {
  const scope = scopes.get(cookies);
  if (!scope) return;
  const store = await scope.store;
  for (const id of scope.ended.splice(0)) await store.delete(id);
  const session = scope.current;
  if (!session) return;
  if (scope.fresh) {
    const data = dataOf(session);
    const now = store.now();
    await store.insert(
      session.id,
      { createdAt: session.createdAt, expiresAt: expiryOf(session.createdAt, now), subject: subjectOf(data), data },
      scope.seen,
    );
    scope.fresh = false;
    scope.base = data;
    scope.version = 0;
    await store.pruneSometimes();
    return;
  }
  if (!(await writeChanges(scope, session))) {
    scope.current = null;
    dropCookie(cookies);
  }
}

/**
 * Replace the session's tokens with what `refresh` makes of them, holding the session's refresh
 * lease in the database: refresh tokens are single use (the embedded IdP ends the whole session
 * when one is presented twice), so of several requests needing a refresh, in any replica, one
 * spends it and the others wait and read its result. The new tokens are written at once.
 */
export async function refreshTokens(
  session: Session,
  refresh: (tokens: NonNullable<Session['tokens']>) => Promise<NonNullable<Session['tokens']>>,
): Promise<void> {
  const scope = scopeOfSession.get(session);
  if (!scope) throw new Error('refreshTokens: the session was not loaded or started by this request');
  scope.refreshing ??= (async () => {
    const store = await scope.store;
    const spent = session.tokens?.refresh;
    const owner = randomBytes(12).toString('hex');
    const giveUpAt = store.now() + REFRESH_LEASE_MS;
    // Did another request refresh (or end the session) since this one read it? After use its result.
    const refreshedElsewhere = async () => {
      const stored = await store.read(session.id);
      if (!stored) {
        session.tokens = null;
        return true;
      }
      const theirs = (stored.data.tokens ?? null) as Session['tokens'];
      if (theirs?.refresh === spent) return false;
      pull(scope, session, stored);
      session.tokens = theirs;
      return true;
    };
    if (scope.fresh) {
      // Not in the database yet: nobody else can hold its tokens.
      if (session.tokens) session.tokens = await refresh(session.tokens);
      return;
    }
    for (;;) {
      if (await store.claimRefresh(session.id, owner, REFRESH_LEASE_MS)) {
        try {
          if (await refreshedElsewhere()) return;
          if (!session.tokens) return;
          session.tokens = await refresh(session.tokens);
          await writeChanges(scope, session);
        } finally {
          await store.releaseRefresh(session.id, owner);
        }
        return;
      }
      if (store.now() > giveUpAt) throw new Error('another request held the refresh lease too long');
      await new Promise((resolve) => setTimeout(resolve, REFRESH_POLL_MS));
      if (await refreshedElsewhere()) return;
    }
  })().finally(() => {
    scope.refreshing = null;
  });
  await scope.refreshing;
}

export function takeFlash(session: Session | null): Flash {
  const flash = session?.flash ?? {};
  if (session) session.flash = null;
  return flash;
}

export function addFlash(session: Session, flash: Flash): void {
  session.flash = { ...session.flash, ...flash };
}

/**
 * Take the session's pending action for this request alone. It is cleared in the database at
 * once, under the version this request read: of two requests replaying it together (two step-ups
 * with two valid codes, a passkey beside a code, in any replica), one gets it and the other gets
 * null, so a held mutation runs once.
 */
export async function takePending(session: Session): Promise<PendingAction | null> {
  const scope = scopeOfSession.get(session);
  if (!scope || scope.fresh || scope.current !== session) {
    const action = session.pending?.action ?? null;
    session.pending = null;
    return action;
  }
  const store = await scope.store;
  for (let attempt = 0; attempt < 8; attempt++) {
    const action = session.pending?.action ?? null;
    if (!action) return null;
    const claimed = { ...dataOf(session), pending: null };
    const version = await store.update(session.id, scope.version, subjectOf(claimed), claimed);
    if (version !== undefined) {
      session.pending = null;
      scope.base = claimed;
      scope.version = version;
      return action;
    }
    // Changed since this request read it: go on from what is stored (taken elsewhere: nothing left).
    const stored = await store.read(session.id);
    if (!stored) return null;
    pull(scope, session, stored);
  }
  throw new Error('The console session is being changed by too many requests at once; retry.');
}

export function setPending(session: Session, action: PendingAction): void {
  session.pending = { action, expiresAt: Date.now() + consoleEnv().ALPHASWARM_CONSOLE_PENDING_TTL * 1000 };
}
