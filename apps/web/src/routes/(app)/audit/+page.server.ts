import { AUDIT_ACTIONS } from '@alphaswarm/contracts';
import { auditFilters } from '$lib/server/audit-filters';
import { toFailure } from '$lib/server/errors';
import { loadFailed } from '$lib/server/pending';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const q = event.url.searchParams;
  const { filters, problems, input: filterInput } = auditFilters(q);
  const input: typeof filterInput & { cursor?: number; limit: number } = { ...filterInput, limit: 50 };
  const cursor = Number(q.get('cursor'));
  if (Number.isInteger(cursor) && cursor > 0) input.cursor = cursor;

  try {
    const r = await event.locals.api.audit.list.query(input);
    return {
      filters,
      problems,
      actions: AUDIT_ACTIONS,
      events: r.events,
      next_cursor: r.next_cursor,
      paged: input.cursor !== undefined,
    };
  } catch (e) {
    loadFailed(event, e);
  }
};

export const actions: Actions = {
  /** Walk the whole hash chain: a read, but slow on big logs, so only on request. */
  verify: async ({ locals }) => {
    try {
      return { verdict: await locals.api.audit.verify.query() };
    } catch (e) {
      return { failure: toFailure(e) };
    }
  },
};
