import { LinkInput } from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import * as svc from '../services/integrations';
import { runIdOf, serviceProcedure } from '../trpc';

export const credentialsRouter = {
  /** The only way a secret leaves the service: to a principal with `integrations:use`, audited. */
  issue: serviceProcedure.input(LinkInput).mutation(async ({ ctx, input }) => ({
    ...(await svc.issueCredentials(ctx.rt, input.org_id, input.kind)),
    audit_run_id: runIdOf(ctx),
  })),
} satisfies TRPCRouterRecord;
