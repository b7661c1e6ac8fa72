import {
  LoginInput,
  LoginResult,
  LogoutInput,
  LogoutResult,
  MeResult,
  RefreshInput,
  StepUpInput,
  TokenResult,
} from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import type { IdentityProvider, IdpRequest } from '../deps';
import { AppError } from '../errors';
import { adminProcedure, type Context, publicProcedure } from '../trpc';

/** The host's embedded IdP, or not_found when it is off. */
function idp(ctx: Context): IdentityProvider {
  if (!ctx.idp) {
    throw new AppError(
      'not_found',
      'The embedded identity provider is off (ALPHASWARM_ADMIN_EMBEDDED_IDP); sign in through the configured OIDC issuer.',
    );
  }
  return ctx.idp;
}

function from(ctx: Context): IdpRequest {
  return { clientIp: ctx.req.clientIp, authorization: ctx.req.authorization };
}

/** Sign-in is public by nature (it is how a caller gets a token); the IdP audits each step itself. */
export const authRouter = {
  /** Password → first-factor token (aud `alphaswarm-admin:mfa`, amr pwd); it opens nothing but `stepUp`. */
  login: publicProcedure
    .input(LoginInput)
    .output(LoginResult)
    .mutation(({ ctx, input }) => idp(ctx).login(input, from(ctx))),

  /** TOTP → access + refresh tokens with a fresh `auth_time`; the caller from mfa_token, refresh_token or the bearer token. */
  stepUp: publicProcedure
    .input(StepUpInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => idp(ctx).stepUp(input, from(ctx))),

  /**
   * New tokens for the same session; `auth_time` is kept, so step-up freshness still expires. The
   * refresh token is single use: keep the new one; presenting a spent one ends the session.
   */
  refresh: publicProcedure
    .input(RefreshInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => idp(ctx).refresh(input, from(ctx))),

  /** Sign-out: every refresh token of the session stops working. */
  logout: publicProcedure
    .input(LogoutInput)
    .output(LogoutResult)
    .mutation(({ ctx, input }) => idp(ctx).logout(input, from(ctx))),

  me: adminProcedure
    .meta({ reach: 'none' })
    .output(MeResult)
    .query(({ ctx }) => ({
      username: ctx.principal.sub,
      scopes: ctx.principal.scopes,
      auth_time: ctx.principal.authTime,
    })),
} satisfies TRPCRouterRecord;
