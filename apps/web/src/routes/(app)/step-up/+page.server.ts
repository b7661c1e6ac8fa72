import { fail, redirect } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { applyTokens } from '$lib/server/auth';
import { consoleEnv } from '$lib/server/env';
import { mustSignInAgain, toFailure } from '$lib/server/errors';
import { replayPending } from '$lib/server/pending';
import { endSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  const session = locals.session;
  const pending = session?.pending?.action;
  const ssoError = session?.ssoError ?? null;
  if (session) session.ssoError = null;
  return {
    label: pending?.after.label ?? null,
    back: pending?.after.origin ?? '/',
    /** SSO sessions step up at their IdP, not with a TOTP code. */
    sso: session?.tokens?.source === 'sso' ? (consoleEnv().ssoName ?? 'your identity provider') : null,
    ssoError,
  };
};

export const actions: Actions = {
  /** Step up with a TOTP code, then replay the pending action and go to its result. */
  verify: async ({ request, locals, cookies, getClientAddress }) => {
    const session = locals.session;
    if (!session?.tokens) redirect(303, '/login');
    const code = String((await request.formData()).get('code') ?? '').replace(/\s+/g, '');
    if (!/^\d{6,8}$/.test(code)) return fail(400, { message: 'Enter the 6-digit code from your authenticator app.' });
    try {
      applyTokens(
        session,
        await publicApi(getClientAddress()).auth.stepUp.mutate({ code, refresh_token: session.tokens.refresh }),
      );
    } catch (e) {
      const f = toFailure(e);
      if (mustSignInAgain(f)) {
        endSession(cookies, session);
        redirect(303, '/login');
      }
      return fail(f.status === 429 ? 429 : 400, { message: f.message });
    }
    const pending = session.pending?.action;
    const location = await replayPending(session, locals.api);
    if (location === '/step-up' && pending) {
      const message = session.ssoError;
      session.ssoError = null;
      return fail(401, { message });
    }
    redirect(303, location);
  },

  cancel: ({ locals }) => {
    const pending = locals.session?.pending?.action;
    if (locals.session) locals.session.pending = null;
    redirect(303, pending?.after.origin ?? '/');
  },
};
