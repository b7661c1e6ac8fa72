import { redirect } from '@sveltejs/kit';
import { applySsoTokens, ssoClient } from '$lib/server/auth';
import { admitBeforeSignIn } from '$lib/server/limits';
import { replayPending } from '$lib/server/pending';
import { startSession } from '$lib/server/session';
import { SsoError } from '$lib/server/sso';
import type { RequestHandler } from './$types';

/**
 * The IdP's answer (a code or an error), as passed on by `../callback`: this request is one our own
 * page started, so it carries the session cookie and the sign-in attempt in it.
 */
export const GET: RequestHandler = async ({ url, locals, cookies, getClientAddress }) => {
  const client = ssoClient();
  if (!client) redirect(303, '/login');
  // No session at all (a callback replayed elsewhere): one to carry the refusal to the sign-in page.
  if (!locals.session) admitBeforeSignIn(getClientAddress());
  const session = locals.session ?? startSession(cookies, null);
  // Used once, whatever happens next: a replayed callback finds nothing to complete.
  const attempt = session.sso;
  session.sso = null;
  let tokens: Awaited<ReturnType<typeof client.finish>>;
  try {
    tokens = await client.finish(url, attempt);
  } catch (e) {
    if (!(e instanceof SsoError)) throw e;
    session.ssoError = e.message;
    redirect(303, attempt?.purpose === 'step_up' && session.tokens ? '/step-up' : '/login');
  }
  const c = tokens.claims;
  const username = [c.preferred_username, c.email, c.sub].find((v): v is string => typeof v === 'string') ?? null;
  if (attempt?.purpose === 'step_up' && session.tokens) {
    applySsoTokens(session, tokens);
    redirect(303, await replayPending(session, locals.api));
  }
  // A new session id once signed in: whatever id existed before is worthless now.
  const signedIn = startSession(cookies, session, { username });
  applySsoTokens(signedIn, tokens);
  redirect(303, attempt?.next ?? '/');
};
