/**
 * Where to go after sign-in: only a path of this console. `next` comes from the URL, so it is
 * parsed the way a browser would read the Location header — WHATWG URL parsing drops tabs and
 * line breaks and treats `\` as `/`, so `/\t/host` or `/\host` would otherwise leave the site —
 * and accepted only when it resolves to our own origin. Anything else, and the sign-in page
 * itself, lands on `/`.
 */
export function safeNext(raw: string | null, origin: string): string {
  if (!raw || raw.length > 2048) return '/';
  // Control characters never belong in a path we hand to a browser (and a newline cannot be a header).
  if (/[\p{Cc}\\]/u.test(raw) || !raw.startsWith('/')) return '/';
  let url: URL;
  let own: URL;
  try {
    own = new URL(origin);
    url = new URL(raw, own);
  } catch {
    return '/';
  }
  if (url.origin !== own.origin) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Re-serialised, a path like "/.//host" becomes "//host": protocol-relative, another site.
  if (!path.startsWith('/') || path.startsWith('//')) return '/';
  if (url.pathname === '/login' || url.pathname.startsWith('/login/')) return '/';
  return path;
}
