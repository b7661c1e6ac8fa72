import { fail } from '@sveltejs/kit';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

const ON_CONFLICT = ['fail', 'skip', 'replace'] as const;
/** adapter-node's default request body limit (BODY_SIZE_LIMIT); bigger stores go through the CLI. */
const MAX_UPLOAD = 512 * 1024;

export const load: PageServerLoad = async (event) => {
  const flash = takeFlash(event.locals.session);
  try {
    const status = await event.locals.api.store.status.query();
    return {
      status,
      notice: flash.notice ?? null,
      failure: flash.failure?.failure ?? null,
      report: flash.importReport ?? null,
      download: event.locals.session?.download ? { filename: event.locals.session.download.filename } : null,
    };
  } catch (e) {
    loadFailed(event, e);
  }
};

function failed(field: string, message: string) {
  return { failure: { code: 'invalid_request', message, field, upstream: null, status: 400 }, values: {} };
}

export const actions: Actions = {
  import: async (event) => {
    const form = await event.request.formData();
    const file = form.get('file');
    const dry_run = form.get('dry_run') === 'on';
    const rawConflict = String(form.get('on_conflict') ?? 'fail');
    const on_conflict = (ON_CONFLICT as readonly string[]).includes(rawConflict)
      ? (rawConflict as (typeof ON_CONFLICT)[number])
      : 'fail';
    if (!(file instanceof File) || file.size === 0) {
      return fail(400, failed('file', 'Choose an export file (JSON) to import.'));
    }
    if (file.size > MAX_UPLOAD) {
      return fail(413, failed('file', 'The file is over 512 KiB: import it with the CLI (alphaswarm-admin import).'));
    }
    const content = await file.text();
    const filename = file.name.replace(/[^\w. -]/g, '_').slice(0, 128) || 'upload.json';
    return perform(event, { type: 'store_import', filename, content, dry_run, on_conflict });
  },
};
