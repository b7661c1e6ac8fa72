import { redirect } from '@sveltejs/kit';
import { endSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: ({ cookies, locals }) => {
    endSession(cookies, locals.session);
    redirect(303, '/login');
  },
};
