import { IntegrationKind, IntegrationStatus, OrgId } from '@alphaswarm/contracts';
import { fail, redirect } from '@sveltejs/kit';
import { moment } from '$lib/server/format';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { url, locals } = event;
  const search = (url.searchParams.get('search') ?? '').trim().slice(0, 64);
  const cursor = url.searchParams.get('cursor')?.slice(0, 64) || null;
  const rawStatus = url.searchParams.get('status');
  const status =
    rawStatus === 'attention' ? ('attention' as const) : (IntegrationStatus.safeParse(rawStatus).data ?? null);
  const kind = IntegrationKind.safeParse(url.searchParams.get('kind')).data ?? null;
  // What needs attention comes first unless the operator asks for the alphabet.
  const sort = url.searchParams.get('sort') === 'org' ? ('org' as const) : ('attention' as const);
  const flash = takeFlash(locals.session);
  try {
    const [r, attention] = await Promise.all([
      locals.api.integrations.orgs.query({
        ...(search ? { search } : {}),
        ...(status ? { status } : {}),
        ...(kind ? { kind } : {}),
        sort,
        cursor,
        limit: 50,
      }),
      // Platform-wide, or of the caller's orgs for an admin of some orgs only (admin:org:<id>).
      locals.api.integrations.attention.query({ limit: 10 }),
    ]);
    const now = Date.now();
    return {
      search,
      status,
      kind,
      sort,
      cursor,
      orgs: r.orgs.map((o) => ({ ...o, soonest: moment(o.soonest_expiry, now) })),
      next_cursor: r.next_cursor,
      attention: {
        ...attention,
        links: attention.links.map((l) => ({ ...l, expires: moment(l.expires_at, now) })),
      },
      notice: flash.notice ?? null,
      failure: flash.failure ?? null,
    };
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
  /** Re-check every link needing attention, platform-wide. */
  recheck: async (event) =>
    perform(event, {
      path: 'integrations.checkHealthMany',
      input: {},
      after: { label: 'Re-check every link needing attention', origin: '/', location: '/' },
    }),
};
