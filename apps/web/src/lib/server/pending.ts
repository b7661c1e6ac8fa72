import type { CloudKind, IntegrationKind, PatKind, WizardStep } from '@alphaswarm/contracts';
import { kinds, SECRET_PARAMS } from '@alphaswarm/contracts/kinds';
import { error, fail, isRedirect, type RequestEvent, redirect } from '@sveltejs/kit';
import type { Api, ImportReport, MutationResult, TokenSet } from './api';
import { applyTokens } from './auth';
import { type Failure, isSignedOut, isStepUpNeeded, toFailure } from './errors';
import { addFlash, endSession, type Flash, type Session, setPending } from './session';

/**
 * A mutation as the console replays it after a step-up. It can hold a PAT, so it lives only in
 * the server-side session (see session.ts) and is forgotten after a few minutes.
 */
export type PendingAction =
  /** A PAT kind's connect form, as entered (the API checks it against the kind's schema). */
  | { type: 'connect'; org_id: string; kind: PatKind; input: Record<string, string> }
  | { type: 'check_health'; org_id: string; kind: IntegrationKind }
  /** Every link of an org, or (null) every link needing attention. */
  | { type: 'check_many'; org_id: string | null }
  | { type: 'rotate'; org_id: string; kind: IntegrationKind }
  | { type: 'disconnect'; org_id: string; kind: IntegrationKind }
  | { type: 'cloud_start'; org_id: string; kind: CloudKind }
  | {
      type: 'cloud_step';
      org_id: string;
      kind: CloudKind;
      session_id: string;
      step: WizardStep;
      params?: Record<string, unknown>;
    }
  | { type: 'cloud_share'; org_id: string; kind: CloudKind; session_id: string }
  | { type: 'cloud_revoke_share'; org_id: string; kind: CloudKind; session_id: string; share_id: string }
  | { type: 'cloud_discard'; org_id: string; kind: CloudKind; session_id: string }
  | { type: 'store_export'; allow_unreadable: boolean }
  /** The account page's passkey enrolment: the step-up is all it waits for; the admin then adds the passkey. */
  | { type: 'account' }
  | { type: 'passkey_remove'; id: string; name: string }
  | { type: 'recovery_codes' }
  /** Holds the new password until the step-up: only in the server-side session, like a PAT. */
  | { type: 'change_password'; new_password: string }
  | {
      type: 'notify_create';
      name: string;
      endpoint_type: 'webhook' | 'slack';
      /** A Slack incoming-webhook URL is a secret: never echoed back into the form. */
      url: string;
      event_types: string[];
    }
  | { type: 'notify_test'; id: string }
  | { type: 'notify_delete'; id: string; name: string }
  | { type: 'notify_redeliver'; id: string }
  | {
      type: 'store_import';
      filename: string;
      content: string;
      dry_run: boolean;
      on_conflict: 'skip' | 'replace' | 'fail';
    };

export interface FormFailure {
  failure: Failure;
  /** Non-secret inputs to put back into the form. */
  values: Record<string, string>;
}

export interface Outcome {
  location: string;
  flash?: Flash;
  download?: { filename: string; content: string };
  /** New tokens for the session (a password change ends the old ones). */
  tokens?: TokenSet;
}

/** Record what the next page shows about a finished action. */
export function applyOutcome(session: Session, outcome: Outcome): void {
  if (outcome.flash) addFlash(session, outcome.flash);
  if (outcome.download) session.download = outcome.download;
  if (outcome.tokens) applyTokens(session, outcome.tokens);
}

const enc = encodeURIComponent;
const label = (kind: IntegrationKind) => kinds[kind].label;
const orgPath = (org: string) => `/orgs/${enc(org)}`;
const cloudPath = (org: string, kind: CloudKind, session?: string) =>
  `${orgPath(org)}/cloud/${kind}${session ? `?session=${enc(session)}` : ''}`;

const STEP_LABELS: Record<WizardStep, string> = {
  bootstrap_artifacts: 'generate the set-up artifacts',
  validate_identity: 'validate the identity',
  validate_permissions: 'check the permissions',
  enumerate_resources: 'list the resources',
  connect: 'connect',
};

/** What the step-up dialog says it is about to do. */
export function describe(a: PendingAction): string {
  switch (a.type) {
    case 'connect':
      return `Connect ${label(a.kind)} for ${a.org_id}`;
    case 'check_health':
      return `Re-check ${label(a.kind)} for ${a.org_id}`;
    case 'check_many':
      return a.org_id ? `Re-check every link of ${a.org_id}` : 'Re-check every link needing attention';
    case 'rotate':
      return `Rotate the ${label(a.kind)} token for ${a.org_id}`;
    case 'disconnect':
      return `Disconnect ${label(a.kind)} from ${a.org_id}`;
    case 'cloud_start':
      return `Start ${label(a.kind)} onboarding for ${a.org_id}`;
    case 'cloud_step':
      return `${label(a.kind)} onboarding for ${a.org_id}: ${STEP_LABELS[a.step]}`;
    case 'cloud_share':
      return `Create a hand-off link for the ${label(a.kind)} onboarding of ${a.org_id}`;
    case 'cloud_revoke_share':
      return `Revoke a hand-off link of the ${label(a.kind)} onboarding of ${a.org_id}`;
    case 'cloud_discard':
      return `Discard an unfinished ${label(a.kind)} onboarding of ${a.org_id}`;
    case 'store_export':
      return 'Export the integrations store';
    case 'store_import':
      return `${a.dry_run ? 'Dry-run import of' : 'Import'} ${a.filename}`;
    case 'notify_create':
      return `Add the notification endpoint ${a.name}`;
    case 'notify_test':
      return `Send a test alert to ${a.id}`;
    case 'notify_delete':
      return `Delete the notification endpoint ${a.name}`;
    case 'notify_redeliver':
      return `Redeliver ${a.id}`;
    case 'account':
      return 'Add a passkey to your account';
    case 'passkey_remove':
      return `Remove the passkey “${a.name}”`;
    case 'recovery_codes':
      return 'Generate new recovery codes';
    case 'change_password':
      return 'Change your password';
  }
}

/** The page whose form started the action: where a failure of its replay is shown. */
export function origin(a: PendingAction): string {
  switch (a.type) {
    case 'connect':
      return `${orgPath(a.org_id)}/connect/${a.kind}`;
    case 'check_health':
    case 'rotate':
      return orgPath(a.org_id);
    case 'check_many':
      return a.org_id ? orgPath(a.org_id) : '/';
    case 'disconnect':
      return `${orgPath(a.org_id)}/disconnect/${a.kind}`;
    case 'cloud_start':
    case 'cloud_discard':
      return cloudPath(a.org_id, a.kind);
    case 'cloud_step':
    case 'cloud_share':
    case 'cloud_revoke_share':
      return cloudPath(a.org_id, a.kind, a.session_id);
    case 'store_export':
    case 'store_import':
      return '/store';
    case 'notify_create':
    case 'notify_test':
    case 'notify_delete':
    case 'notify_redeliver':
      return '/notifications';
    case 'account':
    case 'passkey_remove':
    case 'recovery_codes':
    case 'change_password':
      return '/account';
  }
}

export async function execute(api: Api, a: PendingAction): Promise<Outcome> {
  switch (a.type) {
    case 'connect': {
      // Each PAT kind's procedure takes that kind's input; the form's fields are that input.
      const procedure = api.integrations.connect[kinds[a.kind].connectProcedure] as {
        mutate(input: Record<string, unknown>): Promise<MutationResult>;
      };
      const r = await procedure.mutate({ ...a.input, org_id: a.org_id });
      return connected(r.integration.org_id, a.kind, r.integration.namespace, r.audit_run_id);
    }
    case 'check_health': {
      const r = await api.integrations.checkHealth.mutate({ org_id: a.org_id, kind: a.kind });
      const text = `Re-checked ${label(a.kind)}: ${r.integration.status.replace('_', ' ')}.`;
      return { location: `${orgPath(a.org_id)}#${a.kind}`, flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'check_many': {
      const r = await api.integrations.checkHealthMany.mutate(a.org_id ? { org_id: a.org_id } : {});
      const counts = Object.entries(r.by_status).map(([status, n]) => `${n} ${status.replace('_', ' ')}`);
      const text = `Re-checked ${r.checked} link(s)${counts.length ? `: ${counts.join(', ')}` : ''}.${r.failed ? ` ${r.failed} could not be checked.` : ''}${r.more ? ' More need attention: run it again.' : ''}`;
      return { location: a.org_id ? orgPath(a.org_id) : '/', flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'rotate': {
      const r = await api.integrations.rotate.mutate({ org_id: a.org_id, kind: a.kind });
      const text = `Rotated the ${label(a.kind)} token.`;
      return { location: `${orgPath(a.org_id)}#${a.kind}`, flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'disconnect': {
      const r = await api.integrations.disconnect.mutate({ org_id: a.org_id, kind: a.kind });
      return {
        location: `${orgPath(a.org_id)}/disconnect/${a.kind}?done=${enc(r.audit_run_id)}`,
        flash: {
          disconnected: {
            kind: r.kind,
            credential_key: r.credential_key,
            revocation_guidance: r.revocation_guidance,
            audit_run_id: r.audit_run_id,
          },
        },
      };
    }
    case 'cloud_start': {
      const r = await api.cloudOnboarding.start.mutate({ org_id: a.org_id, kind: a.kind });
      return { location: cloudPath(a.org_id, a.kind, r.session_id) };
    }
    case 'cloud_step': {
      const s = { session_id: a.session_id };
      const back = cloudPath(a.org_id, a.kind, a.session_id);
      switch (a.step) {
        case 'bootstrap_artifacts':
          await api.cloudOnboarding.bootstrapArtifacts.mutate({
            ...s,
            ...(typeof a.params?.project_id === 'string' ? { project_id: a.params.project_id } : {}),
          });
          return { location: `${back}#step-bootstrap_artifacts` };
        case 'validate_identity':
          await api.cloudOnboarding.validateIdentity.mutate({ ...s, params: a.params ?? {} });
          return { location: `${back}#step-validate_identity` };
        case 'validate_permissions':
          await api.cloudOnboarding.validatePermissions.mutate(s);
          return { location: `${back}#step-validate_permissions` };
        case 'enumerate_resources':
          await api.cloudOnboarding.enumerateResources.mutate(s);
          return { location: `${back}#step-enumerate_resources` };
        case 'connect': {
          const r = await api.cloudOnboarding.connect.mutate(s);
          return connected(a.org_id, a.kind, r.integration.namespace, r.audit_run_id);
        }
      }
      break;
    }
    case 'cloud_share': {
      const r = await api.cloudOnboarding.share.mutate({ session_id: a.session_id, org_id: a.org_id, kind: a.kind });
      return {
        location: `${cloudPath(a.org_id, a.kind, a.session_id)}#handoff`,
        flash: { shareLink: { share_id: r.share_id, url: r.url, expires_at: r.expires_at } },
      };
    }
    case 'cloud_revoke_share': {
      await api.cloudOnboarding.revokeShare.mutate({ share_id: a.share_id });
      return {
        location: `${cloudPath(a.org_id, a.kind, a.session_id)}#handoff`,
        flash: { notice: { text: 'The hand-off link was revoked: it now shows an expired page.' } },
      };
    }
    case 'cloud_discard': {
      const r = await api.cloudOnboarding.discard.mutate({ session_id: a.session_id, org_id: a.org_id, kind: a.kind });
      const links = r.revoked.length ? ` Its ${r.revoked.length} hand-off link(s) no longer work.` : '';
      const text = `Discarded the onboarding session ${r.session_id}.${links}`;
      return { location: cloudPath(a.org_id, a.kind), flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'store_export': {
      const r = await api.store.export.mutate({ allow_unreadable: a.allow_unreadable });
      const unreadable =
        r.unreadable > 0 ? ` ${r.unreadable} secret(s) no configured key decrypts are in it as stored.` : '';
      return {
        location: '/store',
        download: { filename: r.filename, content: r.content },
        flash: {
          notice: {
            text: `Export ready: download it below.${unreadable}`,
            ...(r.audit_run_id ? { run_id: r.audit_run_id } : {}),
          },
        },
      };
    }
    case 'store_import': {
      const report: ImportReport = await api.store.import.mutate({
        content: a.content,
        dry_run: a.dry_run,
        on_conflict: a.on_conflict,
      });
      return { location: '/store', flash: { importReport: { ...report, dry_run: a.dry_run, filename: a.filename } } };
    }
    case 'notify_create': {
      const r = await api.notifications.create.mutate({
        name: a.name,
        type: a.endpoint_type,
        url: a.url,
        event_types: a.event_types,
      });
      return {
        location: `/notifications#${r.endpoint.id}`,
        flash: {
          notice: { text: `Added ${r.endpoint.name} (${r.endpoint.id}).`, run_id: r.audit_run_id },
          ...(r.secret ? { endpointSecret: { id: r.endpoint.id, name: r.endpoint.name, secret: r.secret } } : {}),
        },
      };
    }
    case 'notify_test': {
      const r = await api.notifications.test.mutate({ id: a.id });
      const text = `Test alert ${r.delivery_id} queued for ${a.id}: its delivery shows in the log below.`;
      return { location: '/notifications#deliveries', flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'notify_delete': {
      const r = await api.notifications.delete.mutate({ id: a.id });
      const text = `Deleted ${a.name} (${a.id}); its undelivered alerts went with it.`;
      return { location: '/notifications', flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'notify_redeliver': {
      const r = await api.notifications.redeliver.mutate({ id: a.id });
      const text = `Redelivering ${a.id} (same id and body).`;
      return { location: '/notifications#deliveries', flash: { notice: { text, run_id: r.audit_run_id } } };
    }
    case 'account':
      return { location: '/account', flash: { notice: { text: 'Verified: add your passkey now.' } } };
    case 'passkey_remove': {
      await api.auth.passkeyRemove.mutate({ id: a.id });
      return { location: '/account', flash: { notice: { text: `Removed the passkey “${a.name}”.` } } };
    }
    case 'recovery_codes': {
      const r = await api.auth.recoveryCodes.mutate();
      return { location: '/account', flash: { recoveryCodes: r.codes } };
    }
    case 'change_password': {
      const tokens = await api.auth.changePassword.mutate({ new_password: a.new_password });
      const text = 'Password changed. Every other session of yours was signed out.';
      return { location: '/account', tokens, flash: { notice: { text } } };
    }
  }
  throw new Error('unreachable');
}

function connected(org: string, kind: IntegrationKind, namespace: string, run: string): Outcome {
  const text = `Connected ${label(kind)}${namespace ? ` (${namespace})` : ''}.`;
  return { location: `${orgPath(org)}#${kind}`, flash: { notice: { text, run_id: run } } };
}

/**
 * Run a mutation from a form action. Success: flash its outcome and redirect (post/redirect/get).
 * Stale MFA: keep the action in the session and ask for a step-up (the dialog when the form was
 * enhanced, else the /step-up page), which replays it. Anything else: the failure, next to the form.
 */
export async function perform(event: RequestEvent, action: PendingAction) {
  const session = event.locals.session;
  const values = safeValues(action);
  if (!session?.tokens) redirect(303, `/login?next=${enc(event.url.pathname)}`);
  let outcome: Outcome;
  try {
    outcome = await execute(event.locals.api, action);
  } catch (e) {
    if (isRedirect(e)) throw e;
    const failure = toFailure(e);
    if (isStepUpNeeded(failure)) {
      setPending(session, action);
      // SSO sessions step up at their IdP: straight there, no TOTP dialog.
      if (session.tokens?.source === 'sso') redirect(303, '/login/sso?step_up=1');
      if (event.request.headers.get('x-sveltekit-action') === 'true') {
        return fail(401, { step_up: describe(action), values });
      }
      redirect(303, '/step-up');
    }
    if (isSignedOut(failure)) {
      endSession(event.cookies, session);
      redirect(303, `/login?next=${enc(event.url.pathname)}`);
    }
    return fail(httpStatus(failure), { failure: attribute(action, failure), values } satisfies FormFailure);
  }
  applyOutcome(session, outcome);
  redirect(303, outcome.location);
}

/**
 * The input an upstream's verdict concerns when the API did not name one, so the wizard can show
 * the message next to it: a rejected credential is about the kind's secret field, a refused
 * namespace about the namespace.
 */
export function attribute(a: PendingAction, failure: Failure): Failure {
  if (failure.field || (a.type !== 'connect' && a.type !== 'cloud_step')) return failure;
  const field =
    failure.code === 'credential_rejected'
      ? kinds[a.kind].secretParams[0]
      : failure.code === 'namespace_denied' && a.type === 'connect'
        ? 'namespace'
        : undefined;
  return field ? { ...failure, field } : failure;
}

/** Never echoed into a form: every kind's secret params, an uploaded file, a new password, and a webhook URL (Slack's is a secret). */
const SECRET_FIELDS = new Set([...SECRET_PARAMS, 'content', 'url', 'new_password']);

/** The inputs of an action that may be echoed back into its form: everything but secrets. */
export function safeValues(a: PendingAction): Record<string, string> {
  const flat: Record<string, unknown> = {
    ...a,
    ...('params' in a ? a.params : {}),
    ...('input' in a ? a.input : {}),
  };
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (SECRET_FIELDS.has(k) || k === 'params' || k === 'input' || k === 'type') continue;
    if (typeof v === 'string') values[k] = v;
    else if (typeof v === 'boolean') values[k] = v ? 'on' : '';
    else if (Array.isArray(v)) values[k] = v.join(', ');
  }
  return values;
}

function httpStatus(f: Failure): number {
  return f.status >= 400 && f.status <= 599 ? f.status : 500;
}

/** For loads: a signed-out session goes to sign-in, any other failure becomes the error page. */
export function loadFailed(event: RequestEvent, e: unknown): never {
  if (isRedirect(e)) throw e;
  const failure = toFailure(e);
  if (isSignedOut(failure)) {
    endSession(event.cookies, event.locals.session);
    redirect(303, `/login?next=${enc(event.url.pathname + event.url.search)}`);
  }
  error(httpStatus(failure), { message: failure.message, code: failure.code });
}

/**
 * After a step-up: replay the pending action and answer where to go (its result, or its form with
 * the failure). Nothing pending: back to the start with a note.
 */
export async function replayPending(session: Session, api: Api): Promise<string> {
  const pending = session.pending?.action;
  session.pending = null;
  if (!pending) {
    addFlash(session, { notice: { text: 'Verified. You can retry your action now.' } });
    return '/';
  }
  try {
    const outcome = await execute(api, pending);
    applyOutcome(session, outcome);
    return outcome.location;
  } catch (e) {
    if (isRedirect(e)) throw e;
    const failure = toFailure(e);
    if (isStepUpNeeded(failure)) {
      session.pending = { action: pending, expiresAt: Date.now() + 60_000 };
      session.ssoError = failure.message;
      return '/step-up';
    }
    addFlash(session, { failure: { failure: attribute(pending, failure), values: safeValues(pending) } });
    return origin(pending);
  }
}
