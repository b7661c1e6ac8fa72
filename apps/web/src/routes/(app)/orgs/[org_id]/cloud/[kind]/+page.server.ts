import { CloudKind, type WizardStep } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import { error, fail, redirect } from '@sveltejs/kit';
import { formValues, IDENTITY_FIELDS, paramsFrom } from '$lib/cloud-params';
import type { After } from '$lib/server/action';
import type { WizardSession } from '$lib/server/api';
import { type Failure, toFailure } from '$lib/server/errors';
import { cloudPath, kindLabel, loadFailed, perform } from '$lib/server/pending';
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

type SessionStep = { session_id: string; org_id: string; kind: CloudKind };

/** A wizard session's step, named by the page's org and kind (the API refuses a session of another). */
async function sessionOf(event: RequestEvent) {
  const org_id = orgParam(event.params.org_id);
  const kind = kindParam(event.params.kind);
  const form = await event.request.formData();
  const step = { session_id: sessionFrom(event, form), org_id, kind };
  const page = cloudPath(org_id, kind, step.session_id);
  return { step, form, page, of: `the ${kindLabel(kind)} onboarding of ${org_id}` };
}

/** One of the five steps: back to its section of the wizard; a rejected credential concerns the kind's secret field. */
function stepThen(step: SessionStep, name: WizardStep, page: string): After {
  const secret = kinds[step.kind].secretParams[0];
  return {
    label: `${kindLabel(step.kind)} onboarding for ${step.org_id}: ${STEP_LABELS[name]}`,
    origin: page,
    location: `${page}#step-${name}`,
    ...(secret ? { fields: { credential_rejected: secret } } : {}),
  };
}

const STEP_LABELS: Record<WizardStep, string> = {
  bootstrap_artifacts: 'generate the set-up artifacts',
  validate_identity: 'validate the identity',
  validate_permissions: 'check the permissions',
  enumerate_resources: 'list the resources',
  connect: 'connect',
};

export const actions: Actions = {
  start: async (event) => {
    const org_id = orgParam(event.params.org_id);
    const kind = kindParam(event.params.kind);
    return perform(event, {
      path: 'cloudOnboarding.start',
      input: { org_id, kind },
      after: {
        label: `Start ${kindLabel(kind)} onboarding for ${org_id}`,
        origin: cloudPath(org_id, kind),
        location: cloudPath(org_id, kind),
      },
    });
  },
  artifacts: async (event) => {
    const { step, form, page } = await sessionOf(event);
    const project_id = String(form.get('project_id') ?? '').trim();
    return perform(event, {
      path: 'cloudOnboarding.bootstrapArtifacts',
      input: { ...step, ...(project_id ? { project_id } : {}) },
      after: stepThen(step, 'bootstrap_artifacts', page),
    });
  },
  identity: async (event) => {
    const { step, form, page } = await sessionOf(event);
    return perform(event, {
      path: 'cloudOnboarding.validateIdentity',
      input: { ...step, params: paramsFrom(step.kind, form) },
      after: stepThen(step, 'validate_identity', page),
    });
  },
  permissions: async (event) => {
    const { step, page } = await sessionOf(event);
    return perform(event, {
      path: 'cloudOnboarding.validatePermissions',
      input: step,
      after: stepThen(step, 'validate_permissions', page),
    });
  },
  resources: async (event) => {
    const { step, page } = await sessionOf(event);
    return perform(event, {
      path: 'cloudOnboarding.enumerateResources',
      input: step,
      after: stepThen(step, 'enumerate_resources', page),
    });
  },
  connect: async (event) => {
    const { step, page } = await sessionOf(event);
    return perform(event, { path: 'cloudOnboarding.connect', input: step, after: stepThen(step, 'connect', page) });
  },
  share: async (event) => {
    const { step, page, of } = await sessionOf(event);
    return perform(event, {
      path: 'cloudOnboarding.share',
      input: step,
      after: { label: `Create a hand-off link for ${of}`, origin: page, location: `${page}#handoff` },
    });
  },
  revokeShare: async (event) => {
    const { form, page, of } = await sessionOf(event);
    const share_id = String(form.get('share_id') ?? '').slice(0, 64);
    return perform(event, {
      path: 'cloudOnboarding.revokeShare',
      input: { share_id },
      after: {
        label: `Revoke a hand-off link of ${of}`,
        origin: page,
        location: `${page}#handoff`,
        notice: 'The hand-off link was revoked: it now shows an expired page.',
      },
    });
  },
  /** From the list of open sessions or the session itself: back to the list, without it. */
  discard: async (event) => {
    const { step, of } = await sessionOf(event);
    return perform(event, {
      path: 'cloudOnboarding.discard',
      input: step,
      after: {
        label: `Discard an unfinished session of ${of}`,
        origin: cloudPath(step.org_id, step.kind),
        location: cloudPath(step.org_id, step.kind),
      },
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
