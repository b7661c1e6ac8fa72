import { isIntegrationKind, isPatKind, kinds, type PatKind } from '@alphaswarm/contracts/kinds';
import { error } from '@sveltejs/kit';
import { perform } from '$lib/server/pending';
import { orgParam, wizardLoad } from '$lib/server/wizard';
import type { Actions, PageServerLoad } from './$types';

function kindParam(raw: string): PatKind {
  if (!isIntegrationKind(raw) || !isPatKind(raw)) {
    error(404, { message: `“${raw.slice(0, 40)}” is not an integration connected with a token.` });
  }
  return raw;
}

export const load: PageServerLoad = async (event) => {
  const kind = kindParam(event.params.kind);
  return { ...(await wizardLoad(event, kind)), kind, label: kinds[kind].label };
};

export const actions: Actions = {
  /** The form as entered, trimmed, empty fields left out: the API checks it against the kind's schema. */
  default: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const kind = kindParam(event.params.kind);
    const input: Record<string, string> = {};
    for (const [name, value] of await event.request.formData()) {
      if (typeof value === 'string' && value.trim()) input[name] = value.trim();
    }
    return perform(event, { type: 'connect', org_id, kind, input });
  },
};
