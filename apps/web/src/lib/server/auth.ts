import { publicApi, type TokenSet } from './api';
import { consoleEnv } from './env';
import { refreshTokens, type Session } from './session';
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

function ssoTokens(t: Pick<SsoTokens, 'access' | 'refresh' | 'expiresIn'>): NonNullable<Session['tokens']> {
  return {
    access: t.access,
    // No refresh token (the IdP gives none for these scopes): the session ends with the access token.
    refresh: t.refresh ?? '',
    accessExpiresAt: Date.now() + t.expiresIn * 1000,
    source: 'sso',
  };
}

export function applySsoTokens(session: Session, t: Pick<SsoTokens, 'access' | 'refresh' | 'expiresIn'>): void {
  session.tokens = ssoTokens(t);
}

/** The session has no usable tokens left: the admin signs in again. */
export class SignedOutError extends Error {
  override readonly name = 'SignedOutError';
}

/** Refresh a little before expiry so a request never leaves with a token about to lapse. */
const EARLY_REFRESH_MS = 30_000;

function embeddedTokens(t: TokenSet): NonNullable<Session['tokens']> {
  return {
    access: t.access_token,
    refresh: t.refresh_token,
    accessExpiresAt: Date.now() + t.expires_in * 1000,
    source: 'embedded',
  };
}

export function applyTokens(session: Session, t: TokenSet): void {
  session.tokens = embeddedTokens(t);
}

/**
 * A valid access token for this session, refreshed server-side when close to expiry. A refresh
 * keeps the original auth_time, so it never counts as a step-up. One refresh at a time per
 * session, across requests and replicas (`refreshTokens` holds its lease in the database).
 */
export async function accessToken(session: Session, clientIp: string | null): Promise<string> {
  if (!session.tokens) throw new SignedOutError('not signed in');
  if (session.tokens.accessExpiresAt - Date.now() > EARLY_REFRESH_MS) return session.tokens.access;
  try {
    await refreshTokens(session, async (tokens) => {
      if (!tokens.refresh) throw new SignedOutError('no refresh token');
      if (tokens.source === 'sso') {
        const client = ssoClient();
        if (!client) throw new SignedOutError('SSO is no longer configured');
        return ssoTokens(await client.refresh(tokens.refresh));
      }
      return embeddedTokens(await publicApi(clientIp).auth.refresh.mutate({ refresh_token: tokens.refresh }));
    });
  } catch {
    session.tokens = null;
    throw new SignedOutError('refresh failed');
  }
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
