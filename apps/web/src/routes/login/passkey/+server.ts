import { json } from '@sveltejs/kit';
import { adminApi, publicApi } from '$lib/server/api';
import { applyTokens } from '$lib/server/auth';
import { consoleEnv } from '$lib/server/env';
import { safeNext } from '$lib/server/next';
import { badStep, readStep, refused } from '$lib/server/passkey';
import { startSession } from '$lib/server/session';
import type { RequestHandler } from './$types';

/** Username-less sign-in with a passkey: options, then the answer → a new signed-in session. */
export const POST: RequestHandler = async ({ request, cookies, locals, url, getClientAddress }) => {
  if (!consoleEnv().ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN) return json({ error: 'Not found.' }, { status: 404 });
  const step = await readStep(request);
  if (!step) return badStep();
  const api = publicApi(getClientAddress());
  try {
    if (step.step === 'options') return json(await api.auth.passkeyOptions.mutate({ purpose: 'sign_in' }));
    const tokens = await api.auth.passkeyAuthenticate.mutate({
      challenge_id: step.challenge_id,
      response: step.response as never,
    });
    // The passkey said who signed in; the console asks the API for the name it shows.
    const me = await adminApi(() => Promise.resolve(tokens.access_token), getClientAddress()).auth.me.query();
    const session = startSession(cookies, locals.session, { username: me.username });
    applyTokens(session, tokens);
    return json({ location: safeNext(url.searchParams.get('next'), url.origin) });
  } catch (error) {
    return refused(error);
  }
};
