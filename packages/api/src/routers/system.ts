import type { TRPCRouterRecord } from '@trpc/server';
import { adminProcedure, publicProcedure } from '../trpc';

export const systemRouter = {
  info: publicProcedure.query(({ ctx }) => ({
    service: 'alphaswarm-admin',
    environment: ctx.config.environment,
    sandbox: ctx.config.environment === 'sandbox',
    embedded_idp: ctx.idp !== null,
    issuer: ctx.config.publicUrl,
    workload_issuer: ctx.subjectTokens.issuer,
    step_up_max_age: ctx.config.stepUpMaxAge,
    /** What a step-up's token must carry as `acr` (any of them), so a console can ask its IdP for it. */
    step_up_acr: ctx.config.stepUpAcr ?? [],
  })),
  whoami: adminProcedure.meta({ reach: 'none' }).query(({ ctx }) => ({
    sub: ctx.principal.sub,
    scopes: ctx.principal.scopes,
    amr: ctx.principal.amr,
    auth_time: ctx.principal.authTime,
  })),
} satisfies TRPCRouterRecord;
