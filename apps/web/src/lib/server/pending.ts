import type { CloudKind, IntegrationKind } from '@alphaswarm/contracts';
import { kinds, PAT_KINDS, SECRET_PARAMS } from '@alphaswarm/contracts/kinds';
import { error, fail, isRedirect, type RequestEvent, redirect } from '@sveltejs/kit';
import { type Call, call, type OutputOf, type PendingAction, type ProcedurePath } from './action';
import type { Api, TokenSet } from './api';
import { applyTokens } from './auth';
import { type Failure, isSignedOut, isStepUpNeeded, toFailure } from './errors';
import { addFlash, endSession, type Flash, type Session, setPending, takePending } from './session';

export type { After, PendingAction } from './action';

/*
 * A mutation as the console replays it after a step-up (see action.ts). It can hold a PAT, a new
 * password or a Slack URL, so it lives only in the server-side session (see session.ts) and is
 * forgotten after a few minutes.
 */

export interface FormFailure {
  failure: Failure;
  /** Non-secret inputs to put back into the form. */
  values: Record<string, string>;
  /** The section of its page the action returns to (`after.location`'s fragment, e.g. a wizard step): where the failure belongs. */
  at?: string;
}

/** The fragment of an action's `after.location`, if any. */
function sectionOf(a: PendingAction): { at?: string } {
  const hash = a.after.location.indexOf('#');
  return hash >= 0 ? { at: a.after.location.slice(hash + 1) } : {};
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
export const kindLabel = (kind: IntegrationKind) => kinds[kind].label;
export const orgPath = (org: string) => `/orgs/${enc(org)}`;
export const cloudPath = (org: string, kind: CloudKind, session?: string) =>
  `${orgPath(org)}/cloud/${kind}${session ? `?session=${enc(session)}` : ''}`;

/**
 * What a procedure's result adds to the outcome the action's `after` describes: only the
 * procedures whose result the next page shows (a status, a one-time secret, a download, tokens).
 */
type FollowUp<P extends ProcedurePath> = (result: OutputOf<P>, action: Call<P>) => Outcome | Partial<Outcome>;
type FollowUps = { [P in ProcedurePath]?: FollowUp<P> };

function connected(r: OutputOf<'cloudOnboarding.connect'>): Partial<Outcome> {
  const { org_id, kind, namespace } = r.integration;
  const text = `Connected ${kindLabel(kind)}${namespace ? ` (${namespace})` : ''}.`;
  return { location: `${orgPath(org_id)}#${kind}`, flash: { notice: { text, run_id: r.audit_run_id } } };
}

const FOLLOW_UPS: FollowUps = {
  ...(Object.fromEntries(
    PAT_KINDS.map((kind) => [`integrations.connect.${kinds[kind].connectProcedure}`, connected]),
  ) as FollowUps),
  'cloudOnboarding.connect': connected,
  'integrations.checkHealth': (r, a) => {
    const text = `Re-checked ${kindLabel(a.input.kind)}: ${r.integration.status.replace('_', ' ')}.`;
    return { flash: { notice: { text, run_id: r.audit_run_id } } };
  },
  'integrations.checkHealthMany': (r) => {
    const counts = Object.entries(r.by_status).map(([status, n]) => `${n} ${status.replace('_', ' ')}`);
    const text = `Re-checked ${r.checked} link(s)${counts.length ? `: ${counts.join(', ')}` : ''}.${r.failed ? ` ${r.failed} could not be checked.` : ''}${r.more ? ' More need attention: run it again.' : ''}`;
    return { flash: { notice: { text, run_id: r.audit_run_id } } };
  },
  'integrations.disconnect': (r, a) => ({
    location: `${a.after.location}?done=${enc(r.audit_run_id)}`,
    flash: {
      disconnected: {
        kind: r.kind,
        credential_key: r.credential_key,
        revocation_guidance: r.revocation_guidance,
        audit_run_id: r.audit_run_id,
      },
    },
  }),
  'cloudOnboarding.start': (r, a) => ({ location: cloudPath(a.input.org_id, a.input.kind, r.session_id) }),
  'cloudOnboarding.discard': (r) => {
    const links = r.revoked.length ? ` Its ${r.revoked.length} hand-off link(s) no longer work.` : '';
    return {
      flash: { notice: { text: `Discarded the onboarding session ${r.session_id}.${links}`, run_id: r.audit_run_id } },
    };
  },
  'cloudOnboarding.share': (r) => ({
    flash: { shareLink: { share_id: r.share_id, url: r.url, expires_at: r.expires_at } },
  }),
  'store.export': (r) => {
    const unreadable =
      r.unreadable > 0 ? ` ${r.unreadable} secret(s) no configured key decrypts are in it as stored.` : '';
    const text = `Export ready: download it below.${unreadable}`;
    return {
      download: { filename: r.filename, content: r.content },
      flash: { notice: { text, ...(r.audit_run_id ? { run_id: r.audit_run_id } : {}) } },
    };
  },
  'store.import': (r, a) => ({
    flash: { importReport: { ...r, dry_run: a.input.dry_run ?? false, filename: a.after.filename ?? 'upload.json' } },
  }),
  'notifications.create': (r) => ({
    location: `/notifications#${r.endpoint.id}`,
    flash: {
      notice: { text: `Added ${r.endpoint.name} (${r.endpoint.id}).`, run_id: r.audit_run_id },
      ...(r.secret ? { endpointSecret: { id: r.endpoint.id, name: r.endpoint.name, secret: r.secret } } : {}),
    },
  }),
  'notifications.test': (r, a) => {
    const text = `Test alert ${r.delivery_id} queued for ${a.input.id}: its delivery shows in the log below.`;
    return { flash: { notice: { text, run_id: r.audit_run_id } } };
  },
  'auth.recoveryCodes': (r) => ({ flash: { recoveryCodes: r.codes } }),
  'auth.changePassword': (tokens) => ({ tokens }),
};

/** The audit run a result names, linked from the notice. */
function runOf(result: unknown): string | undefined {
  const run = (result as { audit_run_id?: unknown } | null)?.audit_run_id;
  return typeof run === 'string' ? run : undefined;
}

/**
 * Run the action: call its procedure by path through the console's client, then the outcome its
 * `after` describes, refined by the procedure's follow-up. The one place both a form and a
 * step-up (dialog, /step-up page, passkey, SSO) run an action.
 */
export async function replay(api: Api, a: PendingAction): Promise<Outcome> {
  const { location, notice } = a.after;
  if (a.path === null) return { location, ...(notice ? { flash: { notice: { text: notice } } } : {}) };
  const result = await call(api, a.path, a.input as never);
  const run = runOf(result);
  const base: Outcome = {
    location,
    ...(notice ? { flash: { notice: { text: notice, ...(run ? { run_id: run } : {}) } } } : {}),
  };
  const followUp = FOLLOW_UPS[a.path] as FollowUp<ProcedurePath> | undefined;
  const more = followUp?.(result as never, a as never) ?? {};
  const flash = { ...base.flash, ...more.flash };
  return { ...base, ...more, ...(Object.keys(flash).length ? { flash } : {}) };
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
    outcome = await replay(event.locals.api, action);
  } catch (e) {
    if (isRedirect(e)) throw e;
    const failure = toFailure(e);
    if (isStepUpNeeded(failure)) {
      setPending(session, action);
      // SSO sessions step up at their IdP: straight there, no TOTP dialog.
      if (session.tokens?.source === 'sso') redirect(303, '/login/sso?step_up=1');
      if (event.request.headers.get('x-sveltekit-action') === 'true') {
        return fail(401, { step_up: action.after.label, values });
      }
      redirect(303, '/step-up');
    }
    if (isSignedOut(failure)) {
      endSession(event.cookies, session);
      redirect(303, `/login?next=${enc(event.url.pathname)}`);
    }
    return fail(httpStatus(failure), {
      failure: attribute(action, failure),
      values,
      ...sectionOf(action),
    } satisfies FormFailure);
  }
  applyOutcome(session, outcome);
  redirect(303, outcome.location);
}

/**
 * The input a failure concerns when the API did not name one (an upstream's verdict on a
 * credential, a refused namespace), as the form that started the action said, so the form shows
 * the message next to it.
 */
export function attribute(a: PendingAction, failure: Failure): Failure {
  const field = failure.field ? undefined : a.after.fields?.[failure.code];
  return field ? { ...failure, field } : failure;
}

/** Never echoed into a form: every kind's secret params, an uploaded file, a new password, and a webhook URL (Slack's is a secret). */
const SECRET_FIELDS = new Set([...SECRET_PARAMS, 'content', 'url', 'new_password']);

/** The inputs of an action that may be echoed back into its form: everything but secrets. */
export function safeValues(a: PendingAction): Record<string, string> {
  const input = (a.path !== null && a.input && typeof a.input === 'object' ? a.input : {}) as Record<string, unknown>;
  const params = input.params && typeof input.params === 'object' ? (input.params as Record<string, unknown>) : {};
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...input, ...params })) {
    if (SECRET_FIELDS.has(k) || k === 'params') continue;
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
  const pending = await takePending(session);
  if (!pending) {
    addFlash(session, { notice: { text: 'Verified. You can retry your action now.' } });
    return '/';
  }
  try {
    const outcome = await replay(api, pending);
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
    addFlash(session, {
      failure: { failure: attribute(pending, failure), values: safeValues(pending), ...sectionOf(pending) },
    });
    return pending.after.origin;
  }
}
