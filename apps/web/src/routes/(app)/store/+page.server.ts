import { fail } from '@sveltejs/kit';
import { consoleEnv } from '$lib/server/env';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

const ON_CONFLICT = ['fail', 'skip', 'replace'] as const;

function bytes(n: number): string {
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export const load: PageServerLoad = async (event) => {
  const flash = takeFlash(event.locals.session);
  try {
    const status = await event.locals.api.store.status.query();
    return {
      status,
      uploadLimit: bytes(consoleEnv().bodySizeLimit),
      notice: flash.notice ?? null,
      failure: flash.failure?.failure ?? null,
      report: flash.importReport ?? null,
      download: event.locals.session?.download ? { filename: event.locals.session.download.filename } : null,
    };
  } catch (e) {
    loadFailed(event, e);
  }
};

function failed(field: string, message: string, status = 400) {
  const code = status === 413 ? 'payload_too_large' : 'invalid_request';
  return { failure: { code, message, field, upstream: null, status }, values: {} };
}

export const actions: Actions = {
  import: async (event) => {
    // The upload is cut off at BODY_SIZE_LIMIT while it is read; the admin learns the limit and the way around it.
    let form: FormData;
    try {
      form = await event.request.formData();
    } catch (e) {
      const limit = consoleEnv().bodySizeLimit;
      const declared = Number(event.request.headers.get('content-length') ?? 0);
      if ((e as { status?: number }).status === 413 || declared > limit) {
        return fail(
          413,
          failed(
            'file',
            `The upload is over the console's limit of ${bytes(limit)} (BODY_SIZE_LIMIT): import the file with the CLI (alphaswarm-admin import FILE).`,
            413,
          ),
        );
      }
      return fail(400, failed('file', 'The upload could not be read; choose the export file (JSON) again.'));
    }
    const file = form.get('file');
    const dry_run = form.get('dry_run') === 'on';
    const rawConflict = String(form.get('on_conflict') ?? 'fail');
    const on_conflict = (ON_CONFLICT as readonly string[]).includes(rawConflict)
      ? (rawConflict as (typeof ON_CONFLICT)[number])
      : 'fail';
    if (!(file instanceof File) || file.size === 0) {
      return fail(400, failed('file', 'Choose an export file (JSON) to import.'));
    }
    const content = await file.text();
    const filename = file.name.replace(/[^\w. -]/g, '_').slice(0, 128) || 'upload.json';
    return perform(event, {
      path: 'store.import',
      input: { content, dry_run, on_conflict },
      after: {
        label: `${dry_run ? 'Dry-run import of' : 'Import'} ${filename}`,
        origin: '/store',
        location: '/store',
        filename,
      },
    });
  },
};
