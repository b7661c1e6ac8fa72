import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const refresh = vi.fn();
const logout = vi.fn();
const forwardedFor: (string | null)[] = [];
vi.mock('./api', () => ({
  publicApi: (clientIp: string | null) => {
    forwardedFor.push(clientIp);
    return { auth: { refresh: { mutate: refresh }, logout: { mutate: logout } } };
  },
}));

// The suite shares one module graph per worker: fresh modules, so `./auth` gets the mock above.
vi.resetModules();
const { accessToken, revokeTokens, SignedOutError } = await import('./auth');
const { cookieName, loadSession, saveSession, startSession } = await import('./session');

import { generateKey, Keyring, openStore } from '@alphaswarm/db';
import type { Session } from './session';
import { SessionStore } from './session-store';
import { cookieJar } from './testing';

/** The cookies of a request holding session `id`. */
const jar = (id?: string) => cookieJar(id ? { [cookieName()]: id } : {});

/** Two console replicas on one database. */
const key = generateKey();
const replicas = [0, 1].map(
  () => new SessionStore(openStore(process.env.ALPHASWARM_ADMIN_DB_PATH as string), Keyring.fromEnv(key)),
);
afterAll(async () => {
  for (const r of replicas) await r.close();
  // Later files of this worker get the real `./api` and modules that never saw the mock.
  vi.doUnmock('./api');
  vi.resetModules();
});

/**
 * A session saved by the sign-in request, then loaded by two requests. Both on the first store:
 * two SQLite connections in one process block each other's transactions, so replicas that write
 * at the same time are separate processes (the lease itself is tested on both dialects in
 * packages/db); what matters here is that no memory is shared between the requests.
 */
async function storedSession(expiresInMs: number): Promise<Session[]> {
  const cookies = jar();
  await loadSession(cookies, { address: null, userAgent: null }, replicas[0]);
  const { id: _id, createdAt: _c, lastSeen: _l, ...init } = session(expiresInMs);
  const { id } = startSession(cookies, null, init);
  await saveSession(cookies);
  const loaded = await Promise.all(
    [0, 1].map(() => loadSession(jar(id), { address: null, userAgent: null }, replicas[0])),
  );
  return loaded as Session[];
}

function session(expiresInMs: number): Session {
  const now = Date.now();
  return {
    id: 'x',
    createdAt: now,
    lastSeen: now,
    username: 'admin',
    tokens: { access: 'old-access', refresh: 'old-refresh', accessExpiresAt: now + expiresInMs, source: 'embedded' },
    login: null,
    sso: null,
    ssoError: null,
    pending: null,
    flash: null,
    download: null,
  };
}

const tokens = {
  access_token: 'new-access',
  refresh_token: 'new-refresh',
  expires_in: 600,
  token_type: 'Bearer' as const,
  scope: 'admin:cluster',
};

beforeEach(() => {
  refresh.mockReset();
  logout.mockReset();
  forwardedFor.length = 0;
});

describe('accessToken', () => {
  it('uses the current token while it has time left', async () => {
    expect(await accessToken(session(5 * 60_000), '192.0.2.1')).toBe('old-access');
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes a token about to expire once for concurrent requests (no shared memory), and keeps the new one', async () => {
    refresh.mockImplementation(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return tokens;
    });
    const [onA, onB] = await storedSession(10_000);
    const got = await Promise.all([
      accessToken(onA as Session, '192.0.2.1'),
      accessToken(onA as Session, '192.0.2.1'),
      accessToken(onB as Session, '192.0.2.1'),
    ]);
    expect(got).toEqual(['new-access', 'new-access', 'new-access']);
    // The refresh token is single use: presenting it twice would end the session at the IdP.
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith({ refresh_token: 'old-refresh' });
    expect(onB?.tokens?.refresh).toBe('new-refresh');
    // On behalf of the browser: the API limits and audits its address, not the console's.
    expect(forwardedFor).toEqual(['192.0.2.1']);
    // Written at once: a later request, on the other replica too, has the new tokens.
    const later = await loadSession(jar(onA?.id), { address: null, userAgent: null }, replicas[1]);
    expect(later?.tokens?.refresh).toBe('new-refresh');
  });

  it('signs the session out when the refresh is refused', async () => {
    refresh.mockImplementation(async () => {
      throw new Error('invalid_token');
    });
    const [s] = (await storedSession(0)) as [Session];
    await expect(accessToken(s, null)).rejects.toBeInstanceOf(SignedOutError);
    expect(s.tokens).toBeNull();
  });
});

describe('revokeTokens (sign-out)', () => {
  it("revokes the session's refresh token at the API, for the browser's address", async () => {
    logout.mockResolvedValue({ signed_out: true });
    await revokeTokens(session(60_000), '192.0.2.7');
    expect(logout).toHaveBeenCalledWith({ refresh_token: 'old-refresh' });
    expect(forwardedFor).toEqual(['192.0.2.7']);
  });

  it('signs out locally even when the API refuses, and does nothing without tokens', async () => {
    logout.mockRejectedValue(new Error('invalid_token'));
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await expect(revokeTokens(session(60_000), null)).resolves.toBeUndefined();
    expect(error.mock.calls[0]?.join(' ')).not.toContain('old-refresh');
    error.mockRestore();
    await revokeTokens({ ...session(0), tokens: null }, null);
    await revokeTokens(null, null);
    expect(logout).toHaveBeenCalledTimes(1);
  });
});
