import { fail, redirect } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { applyTokens } from '$lib/server/auth';
import { consoleEnv } from '$lib/server/env';
import { mustSignInAgain, toFailure } from '$lib/server/errors';
import { safeNext } from '$lib/server/next';
import { endSession, readSession, startSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.session?.tokens) redirect(303, safeNext(url.searchParams.get('next'), url.origin));
  const login = locals.session?.login;
  const step = login && login.expiresAt > Date.now() ? 'totp' : 'password';
  const ssoError = locals.session?.ssoError ?? null;
  if (locals.session) locals.session.ssoError = null;
  const env = consoleEnv();
  return {
    step,
    username: step === 'totp' ? (locals.session?.username ?? '') : '',
    sso: env.ssoName,
    embedded: env.ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN,
    // A passkey is bound to a host name: a console reached by an IP address cannot use one.
    passkeys: !/^\d+\.\d+\.\d+\.\d+$|^\[/.test(url.hostname),
    ssoError,
  };
};

/** The operator turned the embedded sign-in off: its form actions answer as if they did not exist. */
function embeddedOff() {
  return consoleEnv().ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN
    ? null
    : fail(404, { step: 'password', username: '', message: 'Sign in with your organisation’s identity provider.' });
}

export const actions: Actions = {
  password: async ({ request, cookies, locals, getClientAddress }) => {
    const off = embeddedOff();
    if (off) return off;
    const form = await request.formData();
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!username || !password) {
      return fail(400, { step: 'password', username, message: 'Enter your username and password.' });
    }
    try {
      const r = await publicApi(getClientAddress()).auth.login.mutate({ username, password });
      startSession(cookies, locals.session, {
        username,
        login: { mfaToken: r.mfa_token, expiresAt: Date.now() + r.expires_in * 1000 },
      });
    } catch (e) {
      const f = toFailure(e);
      return fail(f.status === 429 ? 429 : 400, { step: 'password', username, message: f.message });
    }
    return { step: 'totp', username };
  },

  totp: async ({ request, cookies, locals, url, getClientAddress }) => {
    const off = embeddedOff();
    if (off) return off;
    const session = readSession(cookies) ?? locals.session;
    const login = session?.login;
    if (!session || !login || login.expiresAt < Date.now()) {
      return fail(400, {
        step: 'password',
        username: '',
        message: 'The sign-in took too long; enter your password again.',
      });
    }
    const form = await request.formData();
    // A recovery code stands in for the authenticator app's code (a lost phone).
    const recovery = String(form.get('recovery_code') ?? '').trim();
    const code = String(form.get('code') ?? '').replace(/\s+/g, '');
    if (!recovery && !/^\d{6,8}$/.test(code)) {
      return fail(400, {
        step: 'totp',
        username: session.username ?? '',
        message: 'Enter the 6-digit code from your authenticator app.',
      });
    }
    try {
      const tokens = await publicApi(getClientAddress()).auth.stepUp.mutate(
        recovery ? { recovery_code: recovery, mfa_token: login.mfaToken } : { code, mfa_token: login.mfaToken },
      );
      // A new session id once signed in: whatever id existed before is worthless now.
      const signedIn = startSession(cookies, session, { username: session.username });
      applyTokens(signedIn, tokens);
    } catch (e) {
      const f = toFailure(e);
      if (mustSignInAgain(f)) endSession(cookies, session);
      return fail(f.status === 429 ? 429 : 400, { step: 'totp', username: session.username ?? '', message: f.message });
    }
    redirect(303, safeNext(url.searchParams.get('next'), url.origin));
  },

  restart: async ({ cookies, locals }) => {
    endSession(cookies, locals.session);
    redirect(303, '/login');
  },
};
