import { type ConnectProcedure, isIntegrationKind, isPatKind, kinds, type PatKind } from '@alphaswarm/contracts/kinds';
import { error } from '@sveltejs/kit';
import type { Call } from '$lib/server/action';
import { kindLabel, orgPath, perform } from '$lib/server/pending';
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
    const entered: Record<string, string> = {};
    for (const [name, value] of await event.request.formData()) {
      if (typeof value === 'string' && value.trim()) entered[name] = value.trim();
    }
    // Not checked here (see above): the input is typed by its path from the procedure on.
    const action = {
      path: `integrations.connect.${kinds[kind].connectProcedure}`,
      input: { ...entered, org_id },
      after: {
        label: `Connect ${kindLabel(kind)} for ${org_id}`,
        origin: `${orgPath(org_id)}/connect/${kind}`,
        location: `${orgPath(org_id)}#${kind}`,
        // An upstream's verdict on the token concerns the kind's secret field; a refused namespace, the namespace.
        fields: { credential_rejected: kinds[kind].secretParams[0] ?? 'token', namespace_denied: 'namespace' },
      },
    } as unknown as Call<`integrations.connect.${ConnectProcedure}`>;
    return perform(event, action);
  },
};
