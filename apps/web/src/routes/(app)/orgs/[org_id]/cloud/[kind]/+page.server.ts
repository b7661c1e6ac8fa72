import { CloudKind, type WizardStep } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import { error, fail, redirect } from '@sveltejs/kit';
import { formValues, IDENTITY_FIELDS, paramsFrom } from '$lib/cloud-params';
import type { WizardSession } from '$lib/server/api';
import { type Failure, toFailure } from '$lib/server/errors';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import { orgParam } from '$lib/server/wizard';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

function kindParam(raw: string): CloudKind {
  const kind = CloudKind.safeParse(raw);
  if (!kind.success) error(404, { message: `“${raw.slice(0, 40)}” is not a cloud kind.` });
  return kind.data;
}

export const load: PageServerLoad = async (event) => {
  const org_id = orgParam(event.params.org_id);
  const kind = kindParam(event.params.kind);
  const flash = takeFlash(event.locals.session);
  const sessionId = event.url.searchParams.get('session')?.slice(0, 64) || null;
  const common = {
    org_id,
    kind,
    label: kinds[kind].label,
    secretBearing: kinds[kind].secretBearing,
    fields: IDENTITY_FIELDS[kind],
    replayed: flash.failure ?? null,
    shareLink: flash.shareLink ?? null,
    notice: flash.notice ?? null,
  };
  let lost: Failure | null = null;
  if (sessionId) {
    try {
      const session: WizardSession = await event.locals.api.cloudOnboarding.get.query({
        session_id: sessionId,
        org_id,
        kind,
      });
      // Non-secret params the session holds (the customer's, through a hand-off link, too) prefill step 2.
      const values = formValues(kind, session.params);
      if (!values.project_id && session.setup?.project_id) values.project_id = session.setup.project_id;
      return { ...common, session, open: [], values, connected: null };
    } catch (e) {
      // An expired or unknown session: say so above the list of open ones, where a new one starts.
      const f = toFailure(e);
      if (f.code !== 'not_found' && f.code !== 'precondition_failed') loadFailed(event, e);
      lost = f;
    }
  }
  try {
    const [{ sessions }, connected] = await Promise.all([
      event.locals.api.cloudOnboarding.list.query({ org_id }),
      // Not linked yet answers not_found: the usual case here.
      event.locals.api.integrations.get
        .query({ org_id, kind })
        .then((r) => ({ status: r.integration.status, namespace: r.integration.namespace }))
        .catch(() => null),
    ]);
    const open = sessions
      .filter((s) => s.kind === kind)
      .map((s) => ({
        session_id: s.session_id,
        created_at: s.created_at,
        created_by: s.created_by,
        expires_at: s.expires_at,
        done: Object.values(s.steps).filter((r) => r?.ok).length,
      }));
    const replayed = common.replayed ?? (lost ? { failure: lost, values: {} } : null);
    return { ...common, replayed, session: null, open, values: {}, connected };
  } catch (e) {
    loadFailed(event, e);
  }
};

function sessionFrom(event: RequestEvent, form: FormData): string {
  const id = String(form.get('session_id') ?? '');
  if (!id || id.length > 64) redirect(303, event.url.pathname);
  return id;
}

async function step(event: RequestEvent, name: WizardStep, params?: (form: FormData) => Record<string, unknown>) {
  const org_id = orgParam(event.params.org_id);
  const kind = kindParam(event.params.kind);
  const form = await event.request.formData();
  const session_id = sessionFrom(event, form);
  return perform(event, {
    type: 'cloud_step',
    org_id,
    kind,
    session_id,
    step: name,
    ...(params ? { params: params(form) } : {}),
  });
}

export const actions: Actions = {
  start: async (event) =>
    perform(event, { type: 'cloud_start', org_id: orgParam(event.params.org_id), kind: kindParam(event.params.kind) }),
  artifacts: (event) =>
    step(event, 'bootstrap_artifacts', (form) => {
      const project = String(form.get('project_id') ?? '').trim();
      return project ? { project_id: project } : {};
    }),
  identity: async (event) => {
    const kind = kindParam(event.params.kind);
    return step(event, 'validate_identity', (form) => paramsFrom(kind, form));
  },
  permissions: (event) => step(event, 'validate_permissions'),
  resources: (event) => step(event, 'enumerate_resources'),
  connect: (event) => step(event, 'connect'),
  share: async (event) => {
    const form = await event.request.formData();
    return perform(event, {
      type: 'cloud_share',
      org_id: orgParam(event.params.org_id),
      kind: kindParam(event.params.kind),
      session_id: sessionFrom(event, form),
    });
  },
  revokeShare: async (event) => {
    const form = await event.request.formData();
    const share_id = String(form.get('share_id') ?? '').slice(0, 64);
    return perform(event, {
      type: 'cloud_revoke_share',
      org_id: orgParam(event.params.org_id),
      kind: kindParam(event.params.kind),
      session_id: sessionFrom(event, form),
      share_id,
    });
  },
  discard: async (event) => {
    const form = await event.request.formData();
    return perform(event, {
      type: 'cloud_discard',
      org_id: orgParam(event.params.org_id),
      kind: kindParam(event.params.kind),
      session_id: sessionFrom(event, form),
    });
  },
  /** Read-only: fetch the published issuer as a cloud would; no step-up, nothing recorded. */
  verify: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const kind = kindParam(event.params.kind);
    const session_id = sessionFrom(event, await event.request.formData());
    try {
      return { trust: await event.locals.api.cloudOnboarding.verifyTrust.mutate({ session_id, org_id, kind }) };
    } catch (e) {
      const failure = toFailure(e);
      if (failure.code === 'invalid_token') loadFailed(event, e);
      return fail(failure.status, { failure, values: {} });
    }
  },
};
