import type { TRPCRouterRecord } from '@trpc/server';
import { adminProcedure, publicProcedure } from '../trpc';

export const systemRouter = {
  info: publicProcedure.query(({ ctx }) => ({
    service: 'alphaswarm-admin',
    environment: ctx.rt.env.ALPHASWARM_ENV,
    sandbox: ctx.rt.env.ALPHASWARM_ENV === 'sandbox',
    embedded_idp: ctx.rt.adminIssuer !== null,
    issuer: ctx.rt.env.publicUrl,
    workload_issuer: ctx.rt.workload.issuer,
    step_up_max_age: ctx.rt.env.ALPHASWARM_ADMIN_STEP_UP_MAX_AGE,
  })),
  whoami: adminProcedure.query(({ ctx }) => ({
    sub: ctx.principal?.sub ?? null,
    scopes: ctx.principal?.scopes ?? [],
    amr: ctx.principal?.amr ?? [],
    auth_time: ctx.principal?.authTime ?? null,
  })),
} satisfies TRPCRouterRecord;
