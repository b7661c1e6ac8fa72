import {
  AccountResult,
  ChangePasswordInput,
  LoginInput,
  LoginResult,
  LogoutInput,
  LogoutResult,
  MeResult,
  Passkey,
  PasskeyAuthInput,
  PasskeyOptionsInput,
  PasskeyOptionsResult,
  PasskeyRegisterInput,
  PasskeyRemoveInput,
  RecoveryCodesResult,
  RefreshInput,
  StepUpInput,
  TokenResult,
} from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import type { Principal } from '../auth/bearer';
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

function principal(ctx: Context): Principal {
  if (!ctx.principal) throw new AppError('invalid_token', 'A bearer token is required.');
  return ctx.principal;
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

  /** A passkey prompt: `sign_in` (username-less) or `step_up` (the caller's own passkeys). */
  passkeyOptions: publicProcedure
    .input(PasskeyOptionsInput)
    .output(PasskeyOptionsResult)
    .mutation(({ ctx, input }) => idp(ctx).passkeyOptions(input, from(ctx))),

  /** The browser's answer to that prompt → tokens with `acr` `phr` (a new session, or the caller's for a step-up). */
  passkeyAuthenticate: publicProcedure
    .input(PasskeyAuthInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => idp(ctx).passkeyAuthenticate(input, from(ctx))),

  /*
   * The caller's own account (embedded admins). Any admin role may manage their own second factors
   * and password; the IdP checks the MFA is fresh and audits each change itself.
   */
  account: adminProcedure
    .meta({ reach: 'none' })
    .output(AccountResult)
    .query(({ ctx }) => idp(ctx).account(principal(ctx))),

  passkeyRegisterOptions: adminProcedure
    .meta({ reach: 'none' })
    .output(PasskeyOptionsResult)
    .mutation(({ ctx }) => idp(ctx).passkeyRegisterOptions(principal(ctx), from(ctx))),

  passkeyRegister: adminProcedure
    .meta({ reach: 'none' })
    .input(PasskeyRegisterInput)
    .output(Passkey)
    .mutation(({ ctx, input }) => idp(ctx).passkeyRegister(principal(ctx), input, from(ctx))),

  passkeyRemove: adminProcedure
    .meta({ reach: 'none' })
    .input(PasskeyRemoveInput)
    .output(z.object({ removed: z.literal(true) }))
    .mutation(({ ctx, input }) => idp(ctx).passkeyRemove(principal(ctx), input, from(ctx))),

  /** A new set of one-time recovery codes, returned this once; the previous set stops working. */
  recoveryCodes: adminProcedure
    .meta({ reach: 'none' })
    .output(RecoveryCodesResult)
    .mutation(({ ctx }) => idp(ctx).recoveryCodes(principal(ctx), from(ctx))),

  /** A new password; every other session of the admin ends, the caller gets new tokens. */
  changePassword: adminProcedure
    .meta({ reach: 'none' })
    .input(ChangePasswordInput)
    .output(TokenResult)
    .mutation(({ ctx, input }) => idp(ctx).changePassword(principal(ctx), input, from(ctx))),

  me: adminProcedure
    .meta({ reach: 'none' })
    .output(MeResult)
    .query(({ ctx }) => ({
      username: ctx.principal.sub,
      scopes: ctx.principal.scopes,
      auth_time: ctx.principal.authTime,
    })),
} satisfies TRPCRouterRecord;
