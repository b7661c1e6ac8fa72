import { fail, redirect } from '@sveltejs/kit';
import { revokeTokens } from '$lib/server/auth';
import { isSignedOut, toFailure } from '$lib/server/errors';
import { loadFailed } from '$lib/server/pending';
import { endSession, sessionHash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const session = event.locals.session;
  try {
    const { sessions } = await event.locals.api.sessions.list.query(session ? { current: sessionHash(session) } : {});
    return { sessions };
  } catch (e) {
    loadFailed(event, e);
  }
};

export const actions: Actions = {
  /** Protective, so no step-up: every console session of this admin ends, this one included. */
  everywhere: async ({ cookies, locals, getClientAddress }) => {
    try {
      await locals.api.sessions.signOutEverywhere.mutate();
    } catch (e) {
      const failure = toFailure(e);
      if (!isSignedOut(failure)) return fail(failure.status, { failure });
    }
    // The API ended the embedded IdP's tokens; an SSO refresh token is the company IdP's to revoke.
    if (locals.session?.tokens?.source === 'sso') await revokeTokens(locals.session, getClientAddress());
    endSession(cookies, locals.session);
    redirect(303, '/login');
  },
};
