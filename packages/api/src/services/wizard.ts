import {
  type BootstrapArtifacts,
  type CloudKind,
  type IdentityResult,
  kinds,
  type PermissionCheck,
  type PublicIntegration,
  type ResourcesResult,
  renderCredentialKey,
} from '@alphaswarm/contracts';
import {
  createWizardSession,
  deleteWizardSession,
  getWizardSession,
  isoNow,
  listSessionShares,
  listWizardSessions,
  openSecret,
  sealSecret,
  updateWizardState,
  type WizardRow,
} from '@alphaswarm/db';
import { cloudProvider, type IdentityParams, type WizardContext } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';
import { AppError, toAppError, wireCode } from '../errors';
import { storeDraft } from './links';
import { providerContext } from './provider-context';

export const SESSION_TTL_MS = 24 * 3600 * 1000;
/** connect needs identity and permissions proven this recently, in the same session. */
export const PROOF_MAX_AGE_MS = 3600 * 1000;

interface StepRecord<T> {
  at: string;
  ok: boolean;
  result?: T;
  error?: { code: string; message: string };
}

interface WizardState {
  /** Params with secret fields sealed. */
  params?: Record<string, unknown>;
  /** What step 1 was told (GCP: the project id), so artifacts carry it instead of placeholders. */
  setup?: { project_id?: string };
  steps: {
    bootstrap_artifacts?: StepRecord<BootstrapArtifacts>;
    validate_identity?: StepRecord<IdentityResult>;
    validate_permissions?: StepRecord<{ checks: PermissionCheck[] }> & { passed?: boolean };
    enumerate_resources?: StepRecord<ResourcesResult>;
    connect?: StepRecord<{ integration: PublicIntegration; audit_run_id: string }>;
  };
}

function stateOf(row: WizardRow): WizardState {
  const s = row.state as Partial<WizardState>;
  return { ...s, steps: { ...(s.steps ?? {}) } };
}

export async function startSession(deps: ApiDeps, orgId: string, kind: CloudKind, actor: string) {
  const now = deps.now();
  const row = await createWizardSession(
    deps.db,
    { orgId, kind, createdBy: actor, expiresAt: isoNow(new Date(now.getTime() + SESSION_TTL_MS)) },
    isoNow(now),
  );
  return { session_id: row.id, org_id: row.orgId, kind: row.kind as CloudKind, expires_at: row.expiresAt };
}

/** Load a live session; one of another org or kind is indistinguishable from a missing one. */
export async function loadSession(
  deps: ApiDeps,
  sessionId: string,
  expect: { org_id?: string | undefined; kind?: string | undefined } = {},
): Promise<WizardRow> {
  const row = await getWizardSession(deps.db, sessionId);
  if (!row || (expect.org_id && row.orgId !== expect.org_id) || (expect.kind && row.kind !== expect.kind)) {
    throw new AppError('not_found', 'No such onboarding session.');
  }
  if (row.expiresAt <= isoNow(deps.now())) {
    throw new AppError('precondition_failed', `This onboarding session expired at ${row.expiresAt}; start a new one.`);
  }
  return row;
}

/** The kind's secret params are kept only as Fernet tokens in the session, never returned. */
function secretParams(row: WizardRow): readonly string[] {
  return kinds[row.kind as CloudKind].secretParams;
}

function sealParams(deps: ApiDeps, row: WizardRow, params: Record<string, unknown>): Record<string, unknown> {
  const out = { ...params };
  for (const field of secretParams(row)) {
    if (typeof out[field] === 'string') out[field] = { sealed: sealSecret(deps.keyring, out[field]) };
  }
  return out;
}

function openParams(deps: ApiDeps, row: WizardRow, params: Record<string, unknown>): Record<string, unknown> {
  const out = { ...params };
  for (const field of secretParams(row)) {
    const v = out[field] as { sealed?: string } | undefined;
    if (v && typeof v === 'object' && typeof v.sealed === 'string') {
      try {
        out[field] = openSecret(deps.keyring, v.sealed);
      } catch {
        throw new AppError(
          'secret_unreadable',
          'The secret entered in this session can no longer be decrypted; re-enter it in the identity step.',
        );
      }
    }
  }
  return out;
}

function redactParams(row: WizardRow, params: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!params) return null;
  const out = { ...params };
  for (const field of secretParams(row)) if (field in out) out[field] = '••••••••';
  return out;
}

/** The session as callers see it: each step's last result, secrets masked. */
export function sessionView(row: WizardRow) {
  const state = stateOf(row);
  return {
    session_id: row.id,
    org_id: row.orgId,
    kind: row.kind as CloudKind,
    created_by: row.createdBy,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    params: redactParams(row, state.params),
    setup: state.setup ?? null,
    steps: state.steps,
  };
}

/**
 * What the operator's page polls while a customer works through a hand-off link: the row's
 * version (it moves on every recorded step) and where each step stands, without the artifacts.
 */
export function sessionProgress(row: WizardRow) {
  const { params, steps } = stateOf(row);
  const state = (r: { ok: boolean } | undefined) =>
    (r ? (r.ok ? 'done' : 'failed') : 'todo') as 'done' | 'failed' | 'todo';
  return {
    version: row.version,
    params_entered: params !== undefined && Object.keys(params).length > 0,
    steps: {
      bootstrap_artifacts: state(steps.bootstrap_artifacts),
      validate_identity: state(steps.validate_identity),
      validate_permissions: state(steps.validate_permissions),
      enumerate_resources: state(steps.enumerate_resources),
      connect: state(steps.connect),
    },
  };
}

/** The sessions still worth resuming: live and not yet connected (expired ones the sweep purges). */
export async function listSessions(deps: ApiDeps, orgId: string) {
  return (await listWizardSessions(deps.db, orgId, isoNow(deps.now())))
    .filter((row) => stateOf(row).steps.connect?.ok !== true)
    .map(sessionView);
}

/**
 * Drop a session the operator gave up on. Its hand-off links go with it (the shares cascade), so
 * they answer like any dead link from then on; the ids of those still live are returned.
 */
export async function discardSession(
  deps: ApiDeps,
  row: WizardRow,
): Promise<{ session_id: string; revoked: string[] }> {
  const now = isoNow(deps.now());
  const live = (await listSessionShares(deps.db, row.id)).filter((s) => s.revokedAt === null && s.expiresAt > now);
  await deleteWizardSession(deps.db, row.id);
  return { session_id: row.id, revoked: live.map((s) => s.id) };
}

async function save(deps: ApiDeps, row: WizardRow, state: WizardState): Promise<WizardRow> {
  const next = await updateWizardState(deps.db, row, state as unknown as Record<string, unknown>, isoNow(deps.now()));
  if (!next)
    throw new AppError(
      'conflict',
      'This onboarding session was changed by another request; reload it and retry the step.',
    );
  return next;
}

/** `entered`: step 2's new params, used instead of the stored ones (which may no longer open). */
function wizardContext(
  deps: ApiDeps,
  row: WizardRow,
  state: WizardState,
  entered?: IdentityParams,
): WizardContext<CloudKind> {
  const kind = row.kind as CloudKind;
  return {
    org_id: row.orgId,
    kind,
    subject: kinds[kind].subject(row.orgId),
    params: entered ?? (state.params ? (openParams(deps, row, state.params) as IdentityParams) : null),
    identity: state.steps.validate_identity?.ok ? (state.steps.validate_identity.result ?? null) : null,
    setup: state.setup ?? null,
  };
}

type StepName = keyof WizardState['steps'];

/**
 * Run one step and record its result (or its error) in the session before answering. `amend`
 * adjusts the state around the record (new params, derived flags) and returns extra fields for it.
 */
async function runStep<T>(
  deps: ApiDeps,
  row: WizardRow,
  step: StepName,
  act: (state: WizardState) => Promise<T>,
  amend?: (state: WizardState, outcome: { ok: true; result: T } | { ok: false }) => Record<string, unknown> | undefined,
): Promise<T> {
  const state = stateOf(row);
  const steps = state.steps as Record<StepName, unknown>;
  try {
    const result = await act(state);
    const extra = amend?.(state, { ok: true, result });
    steps[step] = { at: isoNow(deps.now()), ok: true, result, ...extra };
    await save(deps, row, state);
    return result;
  } catch (error) {
    const app = toAppError(error);
    if (app.code !== 'conflict' && app.code !== 'internal') {
      const extra = amend?.(state, { ok: false });
      steps[step] = { at: isoNow(deps.now()), ok: false, error: failure(app), ...extra };
      await save(deps, row, state).catch(() => undefined);
    }
    throw error;
  }
}

function failure(error: AppError) {
  return { code: wireCode(error), message: error.message };
}

export async function bootstrapArtifacts(
  deps: ApiDeps,
  row: WizardRow,
  setup: { project_id?: string | undefined } = {},
): Promise<BootstrapArtifacts> {
  const provider = await cloudProvider(row.kind as CloudKind);
  return runStep(deps, row, 'bootstrap_artifacts', async (state) => {
    if (setup.project_id) state.setup = { ...state.setup, project_id: setup.project_id };
    const wizard = wizardContext(deps, row, state);
    const out = await provider.bootstrapArtifacts(providerContext(deps), wizard);
    return {
      issuer: deps.subjectTokens.issuer,
      audience: out.audience,
      subject: wizard.subject,
      artifacts: out.artifacts,
      links: out.links,
    };
  });
}

/** Step 2 with the params the router checked against the session kind's schema. */
export async function validateIdentity(deps: ApiDeps, row: WizardRow, params: IdentityParams): Promise<IdentityResult> {
  const provider = await cloudProvider(row.kind as CloudKind);
  return runStep(
    deps,
    row,
    'validate_identity',
    async (state) => {
      const wizard = { ...wizardContext(deps, row, state, params), params };
      return provider.validateIdentity(providerContext(deps), wizard);
    },
    (state) => {
      // New params invalidate whatever was proven with the old ones.
      state.params = sealParams(deps, row, params);
      delete state.steps.validate_permissions;
      delete state.steps.enumerate_resources;
      return undefined;
    },
  );
}

function requireIdentity(deps: ApiDeps, row: WizardRow, state: WizardState) {
  const wizard = wizardContext(deps, row, state);
  if (!wizard.params || !wizard.identity) {
    throw new AppError('precondition_failed', 'Validate the identity (step 2) in this session first.');
  }
  return { ...wizard, params: wizard.params, identity: wizard.identity };
}

export async function validatePermissions(deps: ApiDeps, row: WizardRow): Promise<{ checks: PermissionCheck[] }> {
  const provider = await cloudProvider(row.kind as CloudKind);
  return runStep(
    deps,
    row,
    'validate_permissions',
    async (state) => ({
      checks: await provider.validatePermissions(providerContext(deps), requireIdentity(deps, row, state)),
    }),
    (_state, o) => ({ passed: o.ok && o.result.checks.every((c) => !c.required || c.granted) }),
  );
}

export async function enumerateResources(deps: ApiDeps, row: WizardRow): Promise<ResourcesResult> {
  const provider = await cloudProvider(row.kind as CloudKind);
  return runStep(deps, row, 'enumerate_resources', async (state) =>
    provider.enumerateResources(providerContext(deps), requireIdentity(deps, row, state)),
  );
}

function assertFresh(deps: ApiDeps, step: { at: string } | undefined, what: string): void {
  if (!step || deps.now().getTime() - Date.parse(step.at) > PROOF_MAX_AGE_MS) {
    throw new AppError(
      'precondition_failed',
      `${what} must have passed in this session within the last hour; run it again, then connect.`,
    );
  }
}

export async function connect(
  deps: ApiDeps,
  row: WizardRow,
  runId: string,
): Promise<{ integration: PublicIntegration; audit_run_id: string }> {
  const kind = row.kind as CloudKind;
  const provider = await cloudProvider(kind);
  const state = stateOf(row);
  const identity = state.steps.validate_identity;
  const permissions = state.steps.validate_permissions;
  if (!identity?.ok)
    throw new AppError('precondition_failed', 'Validate the identity (step 2) in this session before connecting.');
  assertFresh(deps, identity, 'Identity validation (step 2)');
  if (!permissions?.ok || !permissions.result) {
    throw new AppError('precondition_failed', 'Validate the permissions (step 3) in this session before connecting.');
  }
  assertFresh(deps, permissions, 'Permission validation (step 3)');
  const missing = permissions.result.checks.filter((c) => c.required && !c.granted);
  if (missing.length > 0) {
    throw new AppError(
      'permission_missing',
      `Required permissions are missing: ${missing.map((c) => c.permission + (c.scope ? ` on ${c.scope}` : '')).join(', ')}. Grant them, re-run step 3, then connect.`,
    );
  }
  const wizard = requireIdentity(deps, row, state);
  const draft = await provider.toLink(
    providerContext(deps),
    wizard,
    permissions.result.checks,
    state.steps.enumerate_resources?.ok ? (state.steps.enumerate_resources.result ?? null) : null,
  );
  const integration = await storeDraft(deps, row.orgId, kind, draft);
  state.steps.connect = { at: isoNow(deps.now()), ok: true, result: { integration, audit_run_id: runId } };
  await save(deps, row, state).catch((error) =>
    deps.logger.warn(
      {
        session: row.id,
        error_name: (error as Error).name,
        credential_key: renderCredentialKey({ org_id: row.orgId, kind }),
      },
      'link stored; session not updated',
    ),
  );
  return { integration, audit_run_id: runId };
}
