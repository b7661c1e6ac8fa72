import { error, redirect } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { ssoClient } from '$lib/server/auth';
import { admitBeforeSignIn } from '$lib/server/limits';
import { safeNext } from '$lib/server/next';
import { startSession } from '$lib/server/session';
import { SsoError } from '$lib/server/sso';
import type { RequestHandler } from './$types';

/**
 * Leave for the company's IdP. `?step_up=1` (a signed-in SSO session whose action met a stale MFA):
 * `max_age=0` makes the IdP authenticate the admin again, `acr_values` asks for the level the API
 * requires (ALPHASWARM_ADMIN_STEP_UP_ACR); the callback then replays the pending action.
 */
export const GET: RequestHandler = async ({ url, locals, cookies, getClientAddress }) => {
  const client = ssoClient();
  if (!client) error(404, 'Single sign-on is not configured for this console.');
  const stepUp = url.searchParams.get('step_up') === '1';
  const current = locals.session;
  if (stepUp && current?.tokens?.source !== 'sso') redirect(303, current?.tokens ? '/step-up' : '/login');
  // A sign-in stores a session before anyone has signed in: limited per address (a step-up keeps its own).
  if (!stepUp) admitBeforeSignIn(getClientAddress());
  // A sign-in gets a fresh session id; a step-up keeps the signed-in session (and its pending action).
  const session = stepUp && current ? current : startSession(cookies, current);
  let acrValues: string | null = null;
  if (stepUp) {
    const info = await publicApi(getClientAddress()).system.info.query();
    acrValues = info.step_up_acr.length > 0 ? info.step_up_acr.join(' ') : null;
  }
  try {
    const { url: target, attempt } = await client.start({
      purpose: stepUp ? 'step_up' : 'login',
      next: stepUp ? '/step-up' : safeNext(url.searchParams.get('next'), url.origin),
      maxAge: stepUp ? 0 : null,
      acrValues,
      now: new Date(),
    });
    session.sso = attempt;
    session.ssoError = null;
    redirect(303, target.href);
  } catch (e) {
    if (!(e instanceof SsoError)) throw e;
    session.ssoError = e.message;
    redirect(303, stepUp ? '/step-up' : '/login');
  }
};
