import { redirect } from '@sveltejs/kit';
import { revokeTokens } from '$lib/server/auth';
import { endSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ cookies, locals, getClientAddress }) => {
    await revokeTokens(locals.session, getClientAddress());
    endSession(cookies, locals.session);
    redirect(303, '/login');
  },
};
