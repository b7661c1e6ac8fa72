import { error, isRedirect, redirect } from '@sveltejs/kit';
import { auditFilters } from '$lib/server/audit-filters';
import { isSignedOut, toFailure } from '$lib/server/errors';
import { endSession } from '$lib/server/session';
import type { RequestHandler } from './$types';

const TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/jsonl; charset=utf-8' } as const;

/**
 * The audit page's filtered view as a download, formatted by the API exactly as `audit-export`
 * formats (each line with its link). Filters it cannot read send the admin back to the page, which names them.
 */
export const GET: RequestHandler = async ({ locals, cookies, url }) => {
  const format = url.searchParams.get('format');
  const view = new URLSearchParams(url.searchParams);
  view.delete('format');
  if (!locals.session?.tokens) redirect(303, `/login?next=${encodeURIComponent(`/audit?${view}`)}`);
  const { input, problems } = auditFilters(url.searchParams);
  if ((format !== 'csv' && format !== 'jsonl') || Object.keys(problems).length > 0) redirect(303, `/audit?${view}`);
  try {
    const r = await locals.api.audit.export.query({ ...input, format });
    return new Response(r.content, {
      headers: {
        'content-type': TYPES[format],
        'content-disposition': `attachment; filename="${r.filename.replace(/[^\w.-]/g, '_')}"`,
        'x-audit-rows': String(r.rows),
        ...(r.truncated ? { 'x-audit-truncated': 'true' } : {}),
      },
    });
  } catch (e) {
    if (isRedirect(e)) throw e;
    const failure = toFailure(e);
    if (isSignedOut(failure)) {
      endSession(cookies, locals.session);
      redirect(303, `/login?next=${encodeURIComponent(`/audit?${view}`)}`);
    }
    error(failure.status >= 400 && failure.status <= 599 ? failure.status : 500, {
      message: failure.message,
      code: failure.code,
    });
  }
};
