import { isRedirect, redirect } from '@sveltejs/kit';
import { isSignedOut, isStepUpNeeded, toFailure } from '$lib/server/errors';
import { type PendingAction, safeValues } from '$lib/server/pending';
import { addFlash, endSession, setPending } from '$lib/server/session';
import type { RequestHandler } from './$types';

function attachment(filename: string, content: string): Response {
  return new Response(content, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
    },
  });
}

/**
 * Export as a download. A stale MFA goes through the step-up, after which /store offers the file
 * once. A refusal (a secret no configured key reads) is shown on /store beside the checkbox that
 * allows it.
 */
export const POST: RequestHandler = async ({ locals, cookies, request }) => {
  const session = locals.session;
  if (!session?.tokens) redirect(303, '/login?next=/store');
  const form = await request.formData().catch(() => null);
  const action = {
    path: 'store.export',
    input: { allow_unreadable: form?.get('allow_unreadable') === 'on' },
    after: { label: 'Export the integrations store', origin: '/store', location: '/store' },
  } satisfies PendingAction;
  try {
    const r = await locals.api.store.export.mutate(action.input);
    return attachment(r.filename, r.content);
  } catch (e) {
    if (isRedirect(e)) throw e;
    const failure = toFailure(e);
    if (isStepUpNeeded(failure)) {
      setPending(session, action);
      redirect(303, '/step-up');
    }
    if (isSignedOut(failure)) {
      endSession(cookies, session);
      redirect(303, '/login?next=/store');
    }
    addFlash(session, { failure: { failure, values: safeValues(action) } });
    redirect(303, '/store');
  }
};

/** The export prepared by a step-up replay: served once, then forgotten. */
export const GET: RequestHandler = ({ locals }) => {
  const download = locals.session?.download;
  if (!locals.session || !download) redirect(303, '/store');
  locals.session.download = null;
  return attachment(download.filename, download.content);
};
