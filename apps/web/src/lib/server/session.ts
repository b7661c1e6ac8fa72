import { randomBytes } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import type { ImportReport } from './api';
import { consoleEnv } from './env';
import type { FormFailure, PendingAction } from './pending';
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
  refreshing: Promise<void> | null;
}

const sessions = new Map<string, Session>();

export function cookieName(): string {
  return consoleEnv().secureCookies ? '__Host-as_session' : 'as_session';
}

function expired(s: Session, now: number): boolean {
  const env = consoleEnv();
  return (
    now - s.lastSeen > env.ALPHASWARM_CONSOLE_SESSION_IDLE * 1000 ||
    now - s.createdAt > env.ALPHASWARM_CONSOLE_SESSION_MAX * 1000
  );
}

function setCookie(cookies: Cookies, id: string): void {
  // No Max-Age: the cookie dies with the browser; the server enforces idle and absolute limits.
  cookies.set(cookieName(), id, { path: '/', httpOnly: true, sameSite: 'strict', secure: consoleEnv().secureCookies });
}

export function readSession(cookies: Cookies): Session | null {
  const id = cookies.get(cookieName());
  if (!id) return null;
  const session = sessions.get(id);
  const now = Date.now();
  if (!session || expired(session, now)) {
    if (session) sessions.delete(id);
    cookies.delete(cookieName(), { path: '/', secure: consoleEnv().secureCookies });
    return null;
  }
  session.lastSeen = now;
  if (session.pending && session.pending.expiresAt < now) session.pending = null;
  return session;
}

/**
 * A fresh session under a new id (also on every privilege change, so an id seen before sign-in
 * is worthless after it). The old one, if any, is dropped.
 */
export function startSession(cookies: Cookies, previous: Session | null, init: Partial<Session> = {}): Session {
  if (previous) sessions.delete(previous.id);
  const now = Date.now();
  const session: Session = {
    id: randomBytes(32).toString('base64url'),
    createdAt: now,
    lastSeen: now,
    username: null,
    tokens: null,
    login: null,
    sso: null,
    ssoError: null,
    pending: null,
    flash: null,
    download: null,
    refreshing: null,
    ...init,
  };
  sessions.set(session.id, session);
  setCookie(cookies, session.id);
  return session;
}

export function endSession(cookies: Cookies, session: Session | null): void {
  if (session) sessions.delete(session.id);
  cookies.delete(cookieName(), { path: '/', secure: consoleEnv().secureCookies });
}

export function takeFlash(session: Session | null): Flash {
  const flash = session?.flash ?? {};
  if (session) session.flash = null;
  return flash;
}

export function addFlash(session: Session, flash: Flash): void {
  session.flash = { ...session.flash, ...flash };
}

export function setPending(session: Session, action: PendingAction): void {
  session.pending = { action, expiresAt: Date.now() + consoleEnv().ALPHASWARM_CONSOLE_PENDING_TTL * 1000 };
}

const sweep = setInterval(() => {
  const now = Date.now();
  for (const [id, s] of sessions) if (expired(s, now)) sessions.delete(id);
}, 60_000);
sweep.unref?.();
