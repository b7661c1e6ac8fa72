import { json } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { applyTokens } from '$lib/server/auth';
import { mustSignInAgain, toFailure } from '$lib/server/errors';
import { badStep, readStep, refused } from '$lib/server/passkey';
import { replayPending } from '$lib/server/pending';
import { endSession } from '$lib/server/session';
import type { RequestHandler } from './$types';

/** Step up with one of the admin's passkeys, then replay the pending action (as the TOTP form does). */
export const POST: RequestHandler = async ({ request, cookies, locals, getClientAddress }) => {
  const session = locals.session;
  if (session?.tokens?.source !== 'embedded') {
    return json({ error: 'Sign in again.', location: '/login' }, { status: 401 });
  }
  const step = await readStep(request);
  if (!step) return badStep();
  const api = publicApi(getClientAddress());
  const refresh = session.tokens.refresh;
  try {
    if (step.step === 'options') {
      return json(await api.auth.passkeyOptions.mutate({ purpose: 'step_up', refresh_token: refresh }));
    }
    applyTokens(
      session,
      await api.auth.passkeyAuthenticate.mutate({
        challenge_id: step.challenge_id,
        response: step.response as never,
        refresh_token: refresh,
      }),
    );
  } catch (error) {
    const f = toFailure(error);
    if (mustSignInAgain(f) && step.step === 'options') {
      endSession(cookies, session);
      return json({ error: f.message, location: '/login' }, { status: 401 });
    }
    return refused(error);
  }
  const pending = session.pending?.action;
  const location = await replayPending(session, locals.api);
  if (location === '/step-up' && pending) {
    const message = session.ssoError;
    session.ssoError = null;
    return json({ error: message ?? 'That action still needs a step-up.' }, { status: 401 });
  }
  return json({ location });
};
