import { IntegrationKind } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import { error } from '@sveltejs/kit';
import { toFailure } from '$lib/server/errors';
import { kindLabel, loadFailed, orgPath, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import { orgParam } from '$lib/server/wizard';
import type { Actions, PageServerLoad } from './$types';

function kindParam(raw: string): IntegrationKind {
  const kind = IntegrationKind.safeParse(raw);
  if (!kind.success) error(404, { message: `“${raw.slice(0, 40)}” is not an integration kind.` });
  return kind.data;
}

export const load: PageServerLoad = async (event) => {
  const org_id = orgParam(event.params.org_id);
  const kind = kindParam(event.params.kind);
  const flash = takeFlash(event.locals.session);
  const done = event.url.searchParams.get('done');
  // After the disconnect: the outcome (with the API's guidance), or, on a reload, the kind's guidance.
  if (done !== null) {
    const result = flash.disconnected ?? null;
    return {
      org_id,
      kind,
      label: kinds[kind].label,
      phase: 'done' as const,
      guidance: result?.revocation_guidance ?? kinds[kind].revocationGuidance,
      credential_key: result?.credential_key ?? null,
      audit_run_id: result?.audit_run_id ?? done.slice(0, 64),
      link: null,
      failure: null,
    };
  }
  let link = null;
  try {
    const { integration } = await event.locals.api.integrations.get.query({ org_id, kind });
    link = { namespace: integration.namespace, credential_key: integration.credential_key, status: integration.status };
  } catch (e) {
    if (toFailure(e).code !== 'not_found') loadFailed(event, e);
  }
  return {
    org_id,
    kind,
    label: kinds[kind].label,
    phase: 'confirm' as const,
    guidance: kinds[kind].revocationGuidance,
    credential_key: link?.credential_key ?? null,
    audit_run_id: null,
    link,
    failure: flash.failure?.failure ?? null,
  };
};

export const actions: Actions = {
  default: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const kind = kindParam(event.params.kind);
    const page = `${orgPath(org_id)}/disconnect/${kind}`;
    return perform(event, {
      path: 'integrations.disconnect',
      input: { org_id, kind },
      after: { label: `Disconnect ${kindLabel(kind)} from ${org_id}`, origin: page, location: page },
    });
  },
};
