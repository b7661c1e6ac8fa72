import { fail } from '@sveltejs/kit';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const flash = takeFlash(event.locals.session);
  const sso = event.locals.session?.tokens?.source === 'sso';
  try {
    return {
      sso,
      account: sso ? null : await event.locals.api.auth.account.query(),
      notice: flash.notice ?? null,
      failure: flash.failure?.failure ?? null,
      // Shown on this one render: the API keeps only their hashes.
      recoveryCodes: flash.recoveryCodes ?? null,
    };
  } catch (e) {
    loadFailed(event, e);
  }
};

function invalidField(field: string, message: string) {
  return fail(400, {
    failure: { code: 'invalid_request', message, field, upstream: null, status: 400 },
    values: {},
  });
}

export const actions: Actions = {
  removePasskey: async (event) => {
    const form = await event.request.formData();
    const id = String(form.get('id') ?? '');
    const name = String(form.get('name') ?? '').slice(0, 64);
    if (!id) return invalidField('id', 'Choose a passkey to remove.');
    return perform(event, {
      path: 'auth.passkeyRemove',
      input: { id },
      after: {
        label: `Remove the passkey “${name}”`,
        origin: '/account',
        location: '/account',
        notice: `Removed the passkey “${name}”.`,
      },
    });
  },

  recoveryCodes: (event) =>
    perform(event, {
      path: 'auth.recoveryCodes',
      input: undefined,
      after: { label: 'Generate new recovery codes', origin: '/account', location: '/account' },
    }),

  password: async (event) => {
    const form = await event.request.formData();
    const password = String(form.get('new_password') ?? '');
    if (password !== String(form.get('repeat_password') ?? '')) {
      return invalidField('repeat_password', 'The two passwords differ.');
    }
    return perform(event, {
      path: 'auth.changePassword',
      input: { new_password: password },
      after: {
        label: 'Change your password',
        origin: '/account',
        location: '/account',
        notice: 'Password changed. Every other session of yours was signed out.',
      },
    });
  },
};
