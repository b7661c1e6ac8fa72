import { LinkInput } from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import { issueCredentials } from '../services/credentials';
import { serviceProcedure } from '../trpc';

export const credentialsRouter = {
  /** The only way a secret leaves the service: to a principal with `integrations:use`, audited. */
  issue: serviceProcedure.input(LinkInput).mutation(async ({ ctx, input }) => ({
    ...(await issueCredentials(ctx, input.org_id, input.kind)),
    audit_run_id: ctx.runId,
  })),
} satisfies TRPCRouterRecord;
