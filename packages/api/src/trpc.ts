import {
  type AuditAction,
  type IntegrationKind,
  IntegrationKind as IntegrationKindSchema,
  isAuditAction,
  OrgId,
  renderCredentialKey,
  SessionId,
} from '@alphaswarm/contracts';
import { admitDenial, getShare, getWizardSession, type ShareRow, type WizardRow } from '@alphaswarm/db';
import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { type Actor, type AuditTarget, auditDenied, audited } from './audit/writer';
import type { Principal } from './auth/bearer';
import {
  type AdminAccess,
  adminOrgs,
  assertRequirement,
  type OrgReach,
  type Requirement,
  type ServiceBinding,
  serviceBinding,
} from './auth/requirements';
import { CLUSTER_SCOPE } from './auth/roles';
import type { ApiDeps } from './deps';
import { AppError, toAppError, toTrpcError, trpcCode, wireCode } from './errors';
import { openShare, shareGone } from './services/shares';

// ───────────────────────────── context ─────────────────────────────

export interface RequestInfo {
  requestId: string;
  clientIp: string | null;
  authorization: string | undefined;
  /**
   * The declared size of the request body: absent when the input is not in a body (a GET, a
   * direct call), null when not declared (chunked) or not to be read for a denial.
   */
  bodyBytes?: number | null;
  /**
   * Input the request names outside its body (a REST route's path): a denied call is audited
   * with it without its body being read.
   */
  pathInput?: Record<string, unknown>;
}

/** A denied call names its org and kind from its input only when that input is this small. */
const DENIAL_TARGET_MAX_BYTES = 4 * 1024;

/** What every procedure sees: the host's dependencies and the request. Built without HTTP in tests. */
export function createContextInner(deps: ApiDeps, req: RequestInfo) {
  // The dependencies picked by name, not spread: a host passes more than ApiDeps (the server its
  // whole runtime), and tRPC copies the context on every middleware step of every call.
  return {
    db: deps.db,
    keyring: deps.keyring,
    now: deps.now,
    http: deps.http,
    upstreams: deps.upstreams,
    subjectTokens: deps.subjectTokens,
    config: deps.config,
    logger: deps.logger,
    verifier: deps.verifier,
    idp: deps.idp,
    denials: deps.denials,
    outcomes: deps.outcomes,
    auditKeys: deps.auditKeys,
    ephemeralKey: deps.ephemeralKey,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    productionProblems: deps.productionProblems,
    req,
    principal: null as Principal | null,
    /** For service calls: the scope that allowed acting for this org. */
    binding: null as ServiceBinding | null,
    /** For admin calls: the role that allowed the call and the orgs it reaches (null: every org). */
    access: null as AdminAccess | null,
    runId: null as string | null,
  };
}
export type Context = ReturnType<typeof createContextInner>;

export interface Meta {
  /** The kind a procedure acts on when its input does not name one. */
  kind?: IntegrationKind;
  /** How the procedure relates to orgs, for `admin:org:<org_id>` callers (default `org`: its input names one). */
  reach?: OrgReach;
}

// ───────────────────────────── init ─────────────────────────────

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // JSON-RPC code, tRPC code and HTTP status all follow the AppError, whatever raised it.
    errorFormatter({ shape, error }) {
      const app = toAppError(error);
      const code = trpcCode(app);
      return {
        message: app.message,
        code: TRPC_ERROR_CODES_BY_KEY[code],
        data: {
          code,
          httpStatus: app.status,
          path: shape.data.path,
          app_code: wireCode(app),
          upstream: app.extra.upstream ?? null,
          field: app.extra.field ?? null,
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

// ───────────────────────────── auth, audit, errors ─────────────────────────────

/** The audit action of a procedure is its path; a path with none is a programming error, caught by tests. */
function actionOf(path: string): AuditAction {
  if (!isAuditAction(path)) throw new AppError('internal', `No audit action for the procedure ${path}.`);
  return path;
}

function actorOf(ctx: Context): Actor {
  return { actor: ctx.principal?.actor ?? 'anonymous', clientIp: ctx.req.clientIp };
}

/** Best-effort audit target from the raw input: org, kind, or the wizard session they live in. */
const SHARE_ID = /^shr_[0-9a-f]{24}$/;

async function resolveTarget(ctx: Context, raw: unknown, meta: Meta | undefined): Promise<AuditTarget> {
  const input = { ...(raw && typeof raw === 'object' ? raw : {}), ...ctx.req.pathInput } as Record<string, unknown>;
  let orgId = OrgId.safeParse(input.org_id).data ?? null;
  let kind = IntegrationKindSchema.safeParse(input.kind).data ?? meta?.kind ?? null;
  // Only a well-formed id is looked up: PostgreSQL refuses a NUL in text, which would turn the
  // caller's bad input into our failure.
  let sessionId = SessionId.safeParse(input.session_id).data;
  // A hand-off link names the session (and so the org) it opens.
  const shareId = typeof input.share_id === 'string' && SHARE_ID.test(input.share_id) ? input.share_id : null;
  if (shareId) {
    const share = await getShare(ctx.db, shareId);
    if (share) {
      orgId = share.orgId;
      sessionId = share.sessionId;
    }
  }
  if (sessionId) {
    const session = await getWizardSession(ctx.db, sessionId);
    if (session) {
      orgId = session.orgId;
      kind = session.kind as IntegrationKind;
    }
  }
  const credentialKey = orgId && kind ? renderCredentialKey({ org_id: orgId, kind }) : null;
  return { orgId, kind, credentialKey };
}

/**
 * The target of a denied call, from an input small enough to read for it: nobody can make us read
 * and parse a large body by failing to authenticate.
 */
async function deniedTarget(ctx: Context, getRawInput: () => Promise<unknown>, meta: Meta | undefined) {
  const { bodyBytes } = ctx.req;
  const small = bodyBytes === undefined || (bodyBytes !== null && bodyBytes <= DENIAL_TARGET_MAX_BYTES);
  let raw: unknown = {};
  if (small) {
    try {
      raw = await getRawInput();
    } catch {
      raw = {};
    }
  }
  return resolveTarget(ctx, raw, meta);
}

/** Authenticate and authorise the caller, auditing every denial with the same 401/403 and challenge. */
function authed(requirement: Requirement) {
  return t.middleware(async ({ ctx, path, meta, getRawInput, next }) => {
    let whole: Promise<AuditTarget> | null = null;
    const where = () => {
      whole ??= getRawInput().then((raw) => resolveTarget(ctx, raw, meta));
      return whole;
    };
    let seen: Principal | null = null;
    const check = async (): Promise<{
      principal: Principal;
      binding: ServiceBinding | null;
      access: AdminAccess | null;
    }> => {
      const match = ctx.req.authorization ? /^Bearer\s+(\S+)$/i.exec(ctx.req.authorization) : null;
      if (!match?.[1]) {
        throw new AppError('invalid_token', 'A bearer token is required.', {
          headers: {
            'www-authenticate': 'Bearer error="invalid_token", error_description="A bearer token is required"',
          },
        });
      }
      const principal = await ctx.verifier.verify(match[1]);
      seen = principal;
      // The org a call acts for is read from its whole input once the caller is authenticated, and
      // only when it matters: for services, and for admins who hold no cluster-wide role.
      const reach = meta?.reach ?? 'org';
      const perOrg =
        requirement !== 'service' &&
        reach === 'org' &&
        !principal.scopes.includes(CLUSTER_SCOPE) &&
        adminOrgs(principal).length > 0;
      const orgId = requirement === 'service' || perOrg ? (await where()).orgId : undefined;
      const access = assertRequirement(principal, requirement, {
        maxAge: ctx.config.stepUpMaxAge,
        now: ctx.now(),
        acr: ctx.config.stepUpAcr ?? [],
        orgId,
        reach,
        ...(requirement === 'service' ? { platformServiceScope: ctx.config.platformServiceScope } : {}),
      });
      const binding =
        requirement === 'service' ? serviceBinding(principal, orgId, ctx.config.platformServiceScope) : null;
      return { principal, binding, access };
    };
    let caller: Awaited<ReturnType<typeof check>>;
    try {
      caller = await check();
    } catch (error) {
      const app = toAppError(error);
      await auditDenied(
        ctx,
        { actor: (seen as Principal | null)?.actor ?? 'anonymous', clientIp: ctx.req.clientIp },
        actionOf(path),
        () => deniedTarget(ctx, getRawInput, meta),
        app,
      );
      throw toTrpcError(app);
    }
    return next({ ctx: caller });
  });
}

/** Audit-first around the whole procedure; the run id reaches the handler as ctx.runId. */
const audit = t.middleware(async ({ ctx, path, meta, getRawInput, next }) => {
  try {
    const target = await resolveTarget(ctx, await getRawInput(), meta);
    if (ctx.binding) target.detail = { ...target.detail, binding: ctx.binding };
    if (ctx.access) target.detail = { ...target.detail, role: ctx.access.role, role_via: ctx.access.via };
    return await audited(ctx, actorOf(ctx), actionOf(path), target, async (runId) => {
      const result = await next({ ctx: { runId } });
      if (!result.ok) throw result.error;
      return result;
    });
  } catch (error) {
    if (error instanceof TRPCError) throw error;
    throw toTrpcError(toAppError(error));
  }
});

/** Requests per minute one address may make to the hand-off page's procedures. */
export const HANDOFF_PER_MINUTE = 60;
const HANDOFF_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** The rule of `boundedText`: control characters and lone surrogates are the caller's mistake. */
const CONTROL = /[\p{Cc}\p{Cs}]/u;
/** Checked on the whole input before the token is looked up, so a bad field is a 400 on any link. */
function badText(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return CONTROL.test(v);
  if (!v || typeof v !== 'object' || depth > 4) return false;
  return Object.entries(v).some(([k, x]) => CONTROL.test(k) || badText(x, depth + 1));
}

/**
 * The hand-off page: no sign-in, the link's token opens one live share and its session. Every
 * address has a budget shared by every process (the denial windows' upsert, under its own key);
 * an unknown, malformed, expired or revoked token gets one answer; every call is audited as
 * `share:<id>`, never with the token.
 */
const shared = t.middleware(async ({ ctx, path, getRawInput, next }) => {
  const who = { actor: 'anonymous', clientIp: ctx.req.clientIp };
  let opened: { share: ShareRow; session: WizardRow };
  try {
    const budget = await admitDenial(ctx.db, `handoff:${ctx.req.clientIp ?? 'unknown'}`, HANDOFF_PER_MINUTE, ctx.now());
    if (budget === null) {
      throw new AppError('rate_limited', 'Too many requests from this address; wait a minute, then retry.', {
        headers: { 'retry-after': '60' },
      });
    }
    const raw = await getRawInput().catch(() => ({}));
    const token = raw && typeof raw === 'object' ? (raw as { token?: unknown }).token : undefined;
    // Input no link could carry is a bad request, as everywhere; any other unknown token is "gone".
    if (typeof token !== 'string' || badText(raw)) {
      throw new AppError('invalid_request', 'The link is malformed: copy the whole link again.', { field: 'token' });
    }
    if (!HANDOFF_TOKEN.test(token)) throw shareGone();
    opened = await openShare(ctx, token);
  } catch (error) {
    const app = toAppError(error);
    await auditDenied(ctx, who, actionOf(path), { orgId: null, kind: null, credentialKey: null }, app);
    throw toTrpcError(app);
  }
  const { share, session } = opened;
  const kind = session.kind as IntegrationKind;
  try {
    return await audited(
      ctx,
      { actor: `share:${share.id}`, clientIp: ctx.req.clientIp },
      actionOf(path),
      {
        orgId: session.orgId,
        kind,
        credentialKey: renderCredentialKey({ org_id: session.orgId, kind }),
        detail: { share_id: share.id, session_id: session.id },
      },
      async (runId) => {
        const result = await next({ ctx: { runId, share, session } });
        if (!result.ok) throw result.error;
        return result;
      },
    );
  } catch (error) {
    if (error instanceof TRPCError) throw error;
    throw toTrpcError(toAppError(error));
  }
});

/** Convert anything a handler throws into our typed error at one boundary. */
const errors = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (!result.ok && !(result.error.cause instanceof AppError)) {
    const app = toAppError(result.error);
    if (app.code === 'internal') logCrash(ctx, path, result.error.cause ?? result.error);
    throw toTrpcError(app);
  }
  return result;
});

/** Unexpected failures: logged with the request id, without the message (it might quote input). */
export function logCrash(ctx: Pick<Context, 'logger' | 'req'>, where: string, error: unknown): void {
  const err = error as Error;
  const frames = (err?.stack ?? '').split('\n').slice(1, 8).join('\n');
  ctx.logger.error({ request_id: ctx.req.requestId, where, error_name: err?.name, frames }, 'unexpected error');
}

// ───────────────────────────── base procedures ─────────────────────────────

/** Anyone: how a caller gets a token (sign-in) and what the service is. */
export const publicProcedure = t.procedure.use(errors);
/** Reads: `admin:cluster` or `admin:read`, no fresh MFA. */
export const adminProcedure = t.procedure.use(authed('read')).use(errors);
/**
 * The caller's own account (e.g. "sign out everywhere"): any admin, no fresh MFA (protective
 * actions must stay easy), audited before they act.
 */
export const selfProcedure = t.procedure.use(authed('read')).use(audit).use(errors);
/** Mutations: `admin:cluster` + fresh MFA (RFC 9470), audited before they act. */
export const stepUpProcedure = t.procedure.use(authed('step_up')).use(audit).use(errors);
/** The hand-off page: a share link's token instead of a sign-in, rate-limited, audited as the share. */
export const handoffProcedure = t.procedure.use(shared).use(errors);
/** Service-to-service: `integrations:use` (every org) or one org's scope, audited (it reveals secrets). */
export const serviceProcedure = t.procedure.use(authed('service')).use(audit).use(errors);
