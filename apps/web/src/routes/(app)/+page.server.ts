import { OrgId } from '@alphaswarm/contracts';
import { fail, redirect } from '@sveltejs/kit';
import { loadFailed } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { url, locals } = event;
  const search = (url.searchParams.get('search') ?? '').trim().slice(0, 64);
  const cursor = url.searchParams.get('cursor')?.slice(0, 64) || null;
  const flash = takeFlash(locals.session);
  try {
    const r = await locals.api.integrations.orgs.query({ ...(search ? { search } : {}), cursor, limit: 50 });
    return { search, cursor, orgs: r.orgs, next_cursor: r.next_cursor, notice: flash.notice ?? null };
  } catch (e) {
    loadFailed(event, e);
  }
};

export const actions: Actions = {
  /** Any valid org id is reachable, linked or not: that is where its first link is made. */
  go: async ({ request }) => {
    const raw = String((await request.formData()).get('org_id') ?? '').trim();
    const parsed = OrgId.safeParse(raw);
    if (!parsed.success) {
      return fail(400, { org_id: raw.slice(0, 80), message: parsed.error.issues[0]?.message ?? 'Invalid org_id.' });
    }
    redirect(303, `/orgs/${encodeURIComponent(parsed.data)}`);
  },
};
