import { fail, isRedirect, redirect } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { applyTokens } from '$lib/server/auth';
import { isStepUpNeeded, mustSignInAgain, toFailure } from '$lib/server/errors';
import { applyOutcome, attribute, describe, execute, origin, safeValues } from '$lib/server/pending';
import { addFlash, endSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  const pending = locals.session?.pending?.action;
  return { label: pending ? describe(pending) : null, back: pending ? origin(pending) : '/' };
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
    session.pending = null;
    if (!pending) {
      addFlash(session, { notice: { text: 'Verified. You can retry your action now.' } });
      redirect(303, '/');
    }
    try {
      const outcome = await execute(locals.api, pending);
      applyOutcome(session, outcome);
      redirect(303, outcome.location);
    } catch (e) {
      if (isRedirect(e)) throw e;
      const failure = toFailure(e);
      if (isStepUpNeeded(failure)) return fail(401, { message: failure.message });
      addFlash(session, { failure: { failure: attribute(pending, failure), values: safeValues(pending) } });
      redirect(303, origin(pending));
    }
  },

  cancel: ({ locals }) => {
    const pending = locals.session?.pending?.action;
    if (locals.session) locals.session.pending = null;
    redirect(303, pending ? origin(pending) : '/');
  },
};
