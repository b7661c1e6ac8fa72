import type { RequestHandler } from './$types';

/**
 * `<ORIGIN>/login/sso/callback`, where the company's IdP sends the browser back with a code (or an
 * error). Coming from another site, the request carries no SameSite=Strict cookie, so neither the
 * session holding this sign-in's state, nonce and PKCE verifier nor a signed-in admin's pending
 * action is readable here, and a session cookie set here would not go with the next redirect
 * either. So this page only passes the answer on to `/login/sso/finish` from our own origin (a
 * refresh, which needs no script), and that request carries the cookie.
 */
export const GET: RequestHandler = ({ url }) => {
  const next = `/login/sso/finish${url.search}`;
  const href = next.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}">` +
      `<title>Signing in…</title></head><body><main><p>Signing you in… <a href="${href}">Continue</a></p></main></body></html>`,
    { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } },
  );
};
