import type { TRPCRouterRecord } from '@trpc/server';
import {
  LoginInput,
  LoginResult,
  LogoutInput,
  LogoutResult,
  MeResult,
  RefreshInput,
  StepUpInput,
  TokenResult,
} from '../auth/idp/schemas';
import { embeddedIdp } from '../auth/idp/service';
import { toAppError, toTrpcError } from '../errors';
import { adminProcedure, type Context, logCrash, publicProcedure } from '../trpc';

/** These procedures are public by nature (they are how a caller gets a token); they convert their own errors. */
async function guarded<T>(ctx: Context, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const app = toAppError(error);
    if (app.code === 'internal') logCrash(ctx, path, error);
    throw toTrpcError(app);
  }
}

function from(ctx: Context) {
  return { clientIp: ctx.req.clientIp, authorization: ctx.req.authorization };
}

export const authRouter = {
  /** Password → first-factor token (aud `alphaswarm-admin:mfa`, amr pwd); it opens nothing but `stepUp`. */
  login: publicProcedure
    .input(LoginInput)
    .output(LoginResult)
    .mutation(({ ctx, input }) => guarded(ctx, 'auth.login', () => embeddedIdp(ctx.rt).login(input, from(ctx)))),

  /** TOTP → access + refresh tokens with a fresh `auth_time`; the caller from mfa_token, refresh_token or the bearer token. */
  stepUp: publicProcedure
    .input(StepUpInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => guarded(ctx, 'auth.stepUp', () => embeddedIdp(ctx.rt).stepUp(input, from(ctx)))),

  /**
   * New tokens for the same session; `auth_time` is kept, so step-up freshness still expires. The
   * refresh token is single use: keep the new one; presenting a spent one ends the session.
   */
  refresh: publicProcedure
    .input(RefreshInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => guarded(ctx, 'auth.refresh', () => embeddedIdp(ctx.rt).refresh(input, from(ctx)))),

  /** Sign-out: every refresh token of the session stops working. */
  logout: publicProcedure
    .input(LogoutInput)
    .output(LogoutResult)
    .mutation(({ ctx, input }) => guarded(ctx, 'auth.logout', () => embeddedIdp(ctx.rt).logout(input, from(ctx)))),

  me: adminProcedure.output(MeResult).query(({ ctx }) => ({
    username: ctx.principal?.sub ?? '',
    scopes: ctx.principal?.scopes ?? [],
    auth_time: ctx.principal?.authTime ?? null,
  })),
} satisfies TRPCRouterRecord;
