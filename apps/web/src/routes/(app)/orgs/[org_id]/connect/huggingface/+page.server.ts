import { fail } from '@sveltejs/kit';
import { perform } from '$lib/server/pending';
import { orgParam, wizardLoad } from '$lib/server/wizard';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => wizardLoad(event, 'huggingface');

export const actions: Actions = {
  default: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const form = await event.request.formData();
    const token = String(form.get('token') ?? '').trim();
    const namespace = String(form.get('namespace') ?? '').trim();
    if (!token) {
      const failure = {
        code: 'invalid_request',
        message: 'Paste the access token.',
        field: 'token',
        upstream: null,
        status: 400,
      };
      return fail(400, { failure, values: { namespace } });
    }
    return perform(event, { type: 'connect_huggingface', org_id, token, ...(namespace ? { namespace } : {}) });
  },
};
