import { isHttpError } from '@sveltejs/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cookieJar, loopbackApi, settle } from '$lib/server/testing';

/*
 * Leaving for the company's IdP stores a console session (the attempt's state, nonce and PKCE
 * verifier) before anyone has signed in: an address gets 30 of those in 5 minutes, then a 429 that
 * stores nothing. The IdP here is unreachable, so each allowed start ends at /login saying so.
 */

loopbackApi(() => ({ data: null }), {
  ALPHASWARM_CONSOLE_OIDC_ISSUER: 'http://127.0.0.1:9',
  ALPHASWARM_CONSOLE_OIDC_CLIENT_ID: 'console',
  ORIGIN: 'http://127.0.0.1:3000',
});
let start: typeof import('./+server');
let finish: typeof import('./finish/+server');
beforeAll(async () => {
  start = await import('./+server');
  finish = await import('./finish/+server');
});

interface Visit {
  location: string | null;
  stored: boolean;
  status: number;
  message?: string;
}

function visit(route: { GET: unknown }, address: string, path = '/login/sso') {
  const cookies = cookieJar();
  const event = {
    url: new URL(`http://127.0.0.1:3000${path}`),
    locals: { session: null },
    cookies,
    getClientAddress: () => address,
  };
  return settle(() => (route.GET as (e: never) => Promise<Response>)(event as never)).then(
    ({ location }) => ({ location, stored: cookies.names().length > 0, status: 303 }) as Visit,
    (thrown: unknown) => {
      if (!isHttpError(thrown)) throw thrown;
      return {
        location: null,
        stored: cookies.names().length > 0,
        status: thrown.status,
        message: thrown.body.message,
      };
    },
  );
}

describe('sign-ins started at the IdP, per address', () => {
  it('30 in 5 minutes store a session each; the 31st, or a finish without a session, stores nothing', async () => {
    for (let i = 0; i < 30; i++) {
      expect(await visit(start, '198.51.100.7')).toEqual({ location: '/login', stored: true, status: 303 });
    }
    const refused = await visit(start, '198.51.100.7');
    expect(refused).toMatchObject({
      status: 429,
      stored: false,
      message: expect.stringMatching(/^Too many sign-ins from your address; try again in \d+ s\.$/),
    });
    expect(await visit(finish, '198.51.100.7', '/login/sso/finish?code=x&state=y')).toMatchObject({
      status: 429,
      stored: false,
    });
    // Another address is not held back.
    expect(await visit(start, '198.51.100.8')).toEqual({ location: '/login', stored: true, status: 303 });
  });
});
