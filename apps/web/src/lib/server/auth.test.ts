import { beforeEach, describe, expect, it, vi } from 'vitest';

const refresh = vi.fn();
const logout = vi.fn();
const forwardedFor: (string | null)[] = [];
vi.mock('./api', () => ({
  publicApi: (clientIp: string | null) => {
    forwardedFor.push(clientIp);
    return { auth: { refresh: { mutate: refresh }, logout: { mutate: logout } } };
  },
}));

const { accessToken, revokeTokens, SignedOutError } = await import('./auth');

import type { Session } from './session';

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
    refreshing: null,
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

  it('refreshes a token about to expire, once for concurrent callers', async () => {
    refresh.mockImplementation(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return tokens;
    });
    const s = session(10_000);
    const got = await Promise.all([
      accessToken(s, '192.0.2.1'),
      accessToken(s, '192.0.2.1'),
      accessToken(s, '192.0.2.1'),
    ]);
    expect(got).toEqual(['new-access', 'new-access', 'new-access']);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith({ refresh_token: 'old-refresh' });
    expect(s.tokens?.refresh).toBe('new-refresh');
    // On behalf of the browser: the API limits and audits its address, not the console's.
    expect(forwardedFor).toEqual(['192.0.2.1']);
  });

  it('signs the session out when the refresh is refused', async () => {
    refresh.mockImplementation(async () => {
      throw new Error('invalid_token');
    });
    const s = session(0);
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
