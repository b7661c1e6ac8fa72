import { IntegrationKind, OrgId, renderCredentialKey } from '@alphaswarm/contracts';
import { getWizardSession } from '@alphaswarm/db';
import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { assertRequirement, type Requirement, type ServiceBinding, serviceBinding } from './auth/requirements';
import type { Principal } from './auth/verifier';
import { AppError, toAppError, toTrpcError, trpcCode, wireCode } from './errors';
import type { Runtime } from './runtime';
import { type Actor, type AuditTarget, auditDenied, audited } from './services/audit';

export interface RequestInfo {
  requestId: string;
  clientIp: string | null;
  authorization: string | undefined;
  /**
   * The declared size of the request body: absent when the input is not in a body (a GET, a
   * direct call), null when not declared (chunked).
   */
  bodyBytes?: number | null;
}

/** A denied call names its org and kind from its input only when that input is this small. */
const DENIAL_TARGET_MAX_BYTES = 4 * 1024;

/** What every procedure sees. Built without an HTTP request in tests (createCaller). */
export function createContextInner(rt: Runtime, req: RequestInfo) {
  return {
    rt,
    req,
    principal: null as Principal | null,
    /** For service calls: the scope that allowed acting for this org. */
    binding: null as ServiceBinding | null,
    runId: null as string | null,
  };
}
export type Context = ReturnType<typeof createContextInner>;

export interface Meta {
  /** The kind a procedure acts on when its input does not name one. */
  kind?: IntegrationKind;
}

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
export const publicProcedure = t.procedure;

export function actorOf(ctx: Context): Actor {
  return { actor: ctx.principal?.actor ?? 'anonymous', clientIp: ctx.req.clientIp };
}

/** Best-effort audit target from the raw input: org, kind, or the wizard session they live in. */
export async function resolveTarget(rt: Runtime, raw: unknown, meta: Meta | undefined): Promise<AuditTarget> {
  const input = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  let orgId = OrgId.safeParse(input.org_id).data ?? null;
  let kind = IntegrationKind.safeParse(input.kind).data ?? meta?.kind ?? null;
  if (typeof input.session_id === 'string' && input.session_id.length <= 64) {
    const session = await getWizardSession(rt.store.db, input.session_id);
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
  return resolveTarget(ctx.rt, raw, meta);
}

/**
 * Authenticate and authorise a caller, auditing every denial. Shared by tRPC and REST so both
 * answer the same 401/403 with the same WWW-Authenticate challenge.
 */
export async function authenticate(
  rt: Runtime,
  req: RequestInfo,
  requirement: Requirement,
  action: string,
  target: () => Promise<AuditTarget>,
  /** The org a service call acts for, read from its whole input once the caller is authenticated. */
  serviceOrg: () => Promise<string | null | undefined> = async () => (await target()).orgId,
): Promise<Principal> {
  let principal: Principal | null = null;
  try {
    const header = req.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new AppError('invalid_token', 'A bearer token is required.', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="A bearer token is required"' },
      });
    }
    principal = await rt.verifier.verify(match[1]);
    assertRequirement(principal, requirement, {
      maxAge: rt.env.ALPHASWARM_ADMIN_STEP_UP_MAX_AGE,
      now: rt.now(),
      ...(requirement === 'service'
        ? { orgId: await serviceOrg(), platformServiceScope: rt.env.ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE }
        : {}),
    });
    return principal;
  } catch (error) {
    const app = toAppError(error);
    await auditDenied(rt, { actor: principal?.actor ?? 'anonymous', clientIp: req.clientIp }, action, target, app);
    throw app;
  }
}

function authed(requirement: Requirement) {
  return t.middleware(async ({ ctx, path, meta, getRawInput, next }) => {
    try {
      let whole: Promise<AuditTarget> | null = null;
      const where = () => {
        whole ??= getRawInput().then((raw) => resolveTarget(ctx.rt, raw, meta));
        return whole;
      };
      const principal = await authenticate(
        ctx.rt,
        ctx.req,
        requirement,
        path,
        () => deniedTarget(ctx, getRawInput, meta),
        async () => (await where()).orgId,
      );
      const binding =
        requirement === 'service'
          ? serviceBinding(principal, (await where()).orgId, ctx.rt.env.ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE)
          : null;
      return next({ ctx: { ...ctx, principal, binding } });
    } catch (error) {
      throw toTrpcError(toAppError(error));
    }
  });
}

/** Audit-first around the whole procedure; the run id reaches the handler as ctx.runId. */
const audit = t.middleware(async ({ ctx, path, meta, getRawInput, next }) => {
  const target = await resolveTarget(ctx.rt, await getRawInput(), meta);
  if (ctx.binding) target.detail = { ...target.detail, binding: ctx.binding };
  try {
    return await audited(ctx.rt, actorOf(ctx), path, target, async (runId) => {
      const result = await next({ ctx: { ...ctx, runId } });
      if (!result.ok) throw result.error;
      return result;
    });
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
export function logCrash(ctx: { rt: Runtime; req: RequestInfo }, where: string, error: unknown): void {
  const err = error as Error;
  const frames = (err?.stack ?? '').split('\n').slice(1, 8).join('\n');
  ctx.rt.logger.error({ request_id: ctx.req.requestId, where, error_name: err?.name, frames }, 'unexpected error');
}

/** Reads: `admin:cluster` or `admin:read`, no fresh MFA. */
export const adminProcedure = publicProcedure.use(authed('read')).use(errors);
/** Mutations: `admin:cluster` + fresh MFA (RFC 9470), audited before they act. */
export const stepUpProcedure = publicProcedure.use(authed('step_up')).use(audit).use(errors);
/** Service-to-service: `integrations:use`, audited (it reveals secrets). */
export const serviceProcedure = publicProcedure.use(authed('service')).use(audit).use(errors);

/** The audit run id of the current mutation (set by the audit middleware). */
export function runIdOf(ctx: { runId: string | null }): string {
  if (!ctx.runId) throw new AppError('internal', 'audit run id missing');
  return ctx.runId;
}
