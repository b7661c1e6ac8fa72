import { publicApi, type TokenSet } from './api';
import { consoleEnv } from './env';
import type { Session } from './session';
import { SsoClient, type SsoTokens } from './sso';

let client: SsoClient | null | undefined;

/** The console's OIDC client, when SSO is configured (one per process: discovery is cached). */
export function ssoClient(): SsoClient | null {
  if (client === undefined) {
    const settings = consoleEnv().sso;
    client = settings ? new SsoClient(settings) : null;
  }
  return client;
}

export function applySsoTokens(session: Session, t: Pick<SsoTokens, 'access' | 'refresh' | 'expiresIn'>): void {
  session.tokens = {
    access: t.access,
    // No refresh token (the IdP gives none for these scopes): the session ends with the access token.
    refresh: t.refresh ?? '',
    accessExpiresAt: Date.now() + t.expiresIn * 1000,
    source: 'sso',
  };
}

/** The session has no usable tokens left: the admin signs in again. */
export class SignedOutError extends Error {
  override readonly name = 'SignedOutError';
}

/** Refresh a little before expiry so a request never leaves with a token about to lapse. */
const EARLY_REFRESH_MS = 30_000;

export function applyTokens(session: Session, t: TokenSet): void {
  session.tokens = {
    access: t.access_token,
    refresh: t.refresh_token,
    accessExpiresAt: Date.now() + t.expires_in * 1000,
    source: 'embedded',
  };
}

/**
 * A valid access token for this session, refreshed server-side when close to expiry. A refresh
 * keeps the original auth_time, so it never counts as a step-up. Concurrent loads share one refresh.
 */
export async function accessToken(session: Session, clientIp: string | null): Promise<string> {
  if (!session.tokens) throw new SignedOutError('not signed in');
  if (session.tokens.accessExpiresAt - Date.now() > EARLY_REFRESH_MS) return session.tokens.access;
  session.refreshing ??= (async () => {
    try {
      const refresh = session.tokens?.refresh;
      if (!refresh) throw new SignedOutError('no refresh token');
      // Refresh tokens are single use: the new one replaces it, and this promise is shared so
      // concurrent requests of the session never present the same token twice.
      if (session.tokens?.source === 'sso') {
        const client = ssoClient();
        if (!client) throw new SignedOutError('SSO is no longer configured');
        applySsoTokens(session, await client.refresh(refresh));
      } else {
        applyTokens(session, await publicApi(clientIp).auth.refresh.mutate({ refresh_token: refresh }));
      }
    } catch {
      session.tokens = null;
      throw new SignedOutError('refresh failed');
    } finally {
      session.refreshing = null;
    }
  })();
  await session.refreshing;
  if (!session.tokens) throw new SignedOutError('not signed in');
  return session.tokens.access;
}

/**
 * Sign-out at the API: the session's refresh tokens stop working there too. Best effort: the
 * console forgets the tokens either way, and a refusal (already ended, expired) changes nothing.
 */
export async function revokeTokens(session: Session | null, clientIp: string | null): Promise<void> {
  const refresh = session?.tokens?.refresh;
  if (!refresh) return;
  if (session?.tokens?.source === 'sso') {
    await ssoClient()
      ?.revoke(refresh)
      .catch((error) => console.error('sign-out: the IdP did not revoke the session', (error as Error)?.message));
    return;
  }
  try {
    await publicApi(clientIp).auth.logout.mutate({ refresh_token: refresh });
  } catch (error) {
    console.error('sign-out: the API did not revoke the session', (error as Error)?.message);
  }
}
