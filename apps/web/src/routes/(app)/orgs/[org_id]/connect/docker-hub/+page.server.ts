import { fail } from '@sveltejs/kit';
import { perform } from '$lib/server/pending';
import { orgParam, wizardLoad } from '$lib/server/wizard';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => wizardLoad(event, 'docker_hub');

export const actions: Actions = {
  default: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const form = await event.request.formData();
    const username = String(form.get('username') ?? '').trim();
    const pat = String(form.get('pat') ?? '').trim();
    const namespace = String(form.get('namespace') ?? '').trim();
    const missing = !username ? 'username' : !pat ? 'pat' : null;
    if (missing) {
      const message = missing === 'username' ? 'Enter the Docker Hub username.' : 'Paste the personal access token.';
      const failure = { code: 'invalid_request', message, field: missing, upstream: null, status: 400 };
      return fail(400, { failure, values: { username, namespace } });
    }
    return perform(event, { type: 'connect_docker_hub', org_id, username, pat, ...(namespace ? { namespace } : {}) });
  },
};
