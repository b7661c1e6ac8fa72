import { CloudKind } from '@alphaswarm/contracts';
import { json } from '@sveltejs/kit';
import { toFailure } from '$lib/server/errors';
import { orgParam } from '$lib/server/wizard';
import type { RequestHandler } from './$types';

/**
 * Where an onboarding session stands, for the wizard page to poll while a customer works through
 * its hand-off link: a few hundred bytes from one row, never the artifacts. The page reloads its
 * data when `version` moves; without script, a plain reload shows the same.
 */
export const GET: RequestHandler = async (event) => {
  const org_id = orgParam(event.params.org_id);
  const kind = CloudKind.safeParse(event.params.kind);
  const session_id = event.url.searchParams.get('session')?.slice(0, 64);
  const headers = { 'cache-control': 'no-store' };
  if (!kind.success || !session_id) return json({ message: 'No such onboarding session.' }, { status: 404, headers });
  try {
    const progress = await event.locals.api.cloudOnboarding.progress.query({ session_id, org_id, kind: kind.data });
    return json(progress, { headers });
  } catch (e) {
    const failure = toFailure(e);
    return json({ code: failure.code, message: failure.message }, { status: failure.status, headers });
  }
};
