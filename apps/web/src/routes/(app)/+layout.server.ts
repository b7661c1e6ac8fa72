import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

/** The admin guard (hooks.server.ts guards too): no signed-in session, no page. */
export const load: LayoutServerLoad = ({ locals, url }) => {
  if (!locals.session?.tokens) redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  return { username: locals.session.username ?? 'admin' };
};
