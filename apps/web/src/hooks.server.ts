// The BFF's front door: the session cookie becomes `locals.session` and a typed API client,
// unauthenticated requests go to sign-in, and every response gets the security headers.
import { type Handle, type HandleServerError, redirect } from '@sveltejs/kit';
import { adminApi } from '$lib/server/api';
import { accessToken, SignedOutError } from '$lib/server/auth';
import { consoleEnv } from '$lib/server/env';
import { loadSession, saveSession } from '$lib/server/session';
import { ServerTiming } from '$lib/server/timing';

consoleEnv();

const PUBLIC_PATHS = new Set(['/login', '/login/sso', '/login/sso/callback', '/login/sso/finish', '/login/passkey']);
/** The customer's hand-off page: its token, checked by the API, is the only key. */
const HANDOFF_PREFIX = '/handoff/';

const SECURITY_HEADERS: Record<string, string> = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy':
    'camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)',
};

/** For responses SvelteKit does not give its page CSP (redirects, downloads, JSON). */
const FALLBACK_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function withHeaders(response: Response): Response {
  let headers: Headers;
  try {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
    headers = response.headers;
  } catch {
    // Some responses (e.g. from fetch) have immutable headers: copy them.
    const copy = new Response(response.body, response);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) copy.headers.set(k, v);
    response = copy;
    headers = copy.headers;
  }
  if (!headers.has('content-security-policy')) headers.set('content-security-policy', FALLBACK_CSP);
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  return response;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The other half of the CSRF check (see svelte.config.js): a state-changing request must come
 * from our own pages. Fetch metadata says so directly; an `Origin: null` post without it is refused.
 */
function crossSite(request: Request): boolean {
  if (!UNSAFE.has(request.method)) return false;
  const site = request.headers.get('sec-fetch-site');
  if (site) return site !== 'same-origin';
  return request.headers.get('origin') === 'null';
}

export const handle: Handle = async ({ event, resolve }) => {
  if (crossSite(event.request)) {
    return withHeaders(new Response('Cross-site requests are forbidden', { status: 403 }));
  }
  const clientIp = event.getClientAddress();
  const timing = new ServerTiming();
  event.locals.timing = timing;
  const session = await timing.measure('session', 'session lookup', () =>
    loadSession(event.cookies, { address: clientIp, userAgent: event.request.headers.get('user-agent') }),
  );
  event.locals.session = session;
  event.locals.api = adminApi(
    () => (session ? accessToken(session, clientIp) : Promise.reject(new SignedOutError('not signed in'))),
    clientIp,
  );

  const path = event.url.pathname;
  const handoff = path.startsWith(HANDOFF_PREFIX);
  if (!session?.tokens && !PUBLIC_PATHS.has(path) && !handoff && !path.startsWith('/_app/')) {
    // Thrown (not returned) so SvelteKit answers data and enhanced-form requests in their own format.
    const next =
      path === '/' || path.endsWith('/__data.json') ? '' : `?next=${encodeURIComponent(path + event.url.search)}`;
    await saveSession(event.cookies);
    redirect(303, `/login${next}`);
  }
  let response: Response;
  try {
    // Load functions record their own parts (e.g. the API batch) inside this one.
    response = withHeaders(await timing.measure('page', 'load and render', async () => resolve(event)));
    response.headers.set('server-timing', timing.header());
  } finally {
    // Once per request, and only what it changed (see session.ts).
    await saveSession(event.cookies);
  }
  // A link with a secret in its path must never be indexed, whatever the page says.
  if (handoff) response.headers.set('x-robots-tag', 'noindex, nofollow');
  return response;
};

export const handleError: HandleServerError = ({ error, status, message }) => {
  if (status >= 500)
    console.error('console error', (error as Error)?.name, (error as Error)?.stack?.split('\n')[1]?.trim());
  return { message: status >= 500 ? 'Something went wrong in the console; see its log.' : message };
};
