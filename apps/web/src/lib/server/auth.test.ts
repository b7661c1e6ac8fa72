import { beforeEach, describe, expect, it, vi } from 'vitest';

const refresh = vi.fn();
vi.mock('./api', () => ({ publicApi: () => ({ auth: { refresh: { mutate: refresh } } }) }));

const { accessToken, SignedOutError } = await import('./auth');

import type { Session } from './session';

function session(expiresInMs: number): Session {
  const now = Date.now();
  return {
    id: 'x',
    createdAt: now,
    lastSeen: now,
    username: 'admin',
    tokens: { access: 'old-access', refresh: 'old-refresh', accessExpiresAt: now + expiresInMs },
    login: null,
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

describe('accessToken', () => {
  beforeEach(() => {
    refresh.mockReset();
  });

  it('uses the current token while it has time left', async () => {
    expect(await accessToken(session(5 * 60_000))).toBe('old-access');
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes a token about to expire, once for concurrent callers', async () => {
    refresh.mockImplementation(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return tokens;
    });
    const s = session(10_000);
    const got = await Promise.all([accessToken(s), accessToken(s), accessToken(s)]);
    expect(got).toEqual(['new-access', 'new-access', 'new-access']);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith({ refresh_token: 'old-refresh' });
    expect(s.tokens?.refresh).toBe('new-refresh');
  });

  it('signs the session out when the refresh is refused', async () => {
    refresh.mockImplementation(async () => {
      throw new Error('invalid_token');
    });
    const s = session(0);
    await expect(accessToken(s)).rejects.toBeInstanceOf(SignedOutError);
    expect(s.tokens).toBeNull();
  });
});
