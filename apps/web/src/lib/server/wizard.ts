import type { IntegrationKind } from '@alphaswarm/contracts';
import { OrgId } from '@alphaswarm/contracts';
import { error, type RequestEvent } from '@sveltejs/kit';
import { toFailure } from './errors';
import { loadFailed } from './pending';
import { presentMetadata } from './present';
import { takeFlash } from './session';

export function orgParam(raw: string): string {
  const org = OrgId.safeParse(raw);
  if (!org.success) error(404, { message: `“${raw.slice(0, 80)}” is not a valid org_id.` });
  return org.data;
}

/** What a connect wizard shows before its form: the link as it stands (masked), and a replayed failure. */
export async function wizardLoad(event: RequestEvent, kind: IntegrationKind) {
  const org_id = orgParam(event.params.org_id ?? '');
  const flash = takeFlash(event.locals.session);
  let current = null;
  try {
    const { integration } = await event.locals.api.integrations.get.query({ org_id, kind });
    current = {
      namespace: integration.namespace,
      status: integration.status,
      connected_at: integration.connected_at,
      meta: presentMetadata(integration.metadata),
    };
  } catch (e) {
    if (toFailure(e).code !== 'not_found') loadFailed(event, e);
  }
  return { org_id, current, replayed: flash.failure ?? null };
}
