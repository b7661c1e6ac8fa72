import { VerifyTrustResult } from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import { handoffView } from '../services/shares';
import { verifySessionTrust } from '../services/verify-trust';
import * as wizard from '../services/wizard';
import { handoffProcedure } from '../trpc';
import { HandoffInput, HandoffSubmitInput } from './cloud-onboarding/cloud-onboarding.schema';
import { validateIdentityOf } from './cloud-onboarding/validate-identity.handler';

/**
 * The public hand-off page's procedures: the token in the link opens one session (see
 * `handoffProcedure`); the customer runs the identity and permission checks, the operator connects.
 */
export const handoffRouter = {
  get: handoffProcedure.input(HandoffInput).query(({ ctx }) => handoffView(ctx.share, ctx.session)),

  /** Identity, then (when it passes) permissions: each recorded on the session as the wizard does. */
  submit: handoffProcedure.input(HandoffSubmitInput).mutation(async ({ ctx, input }) => {
    const identity = await validateIdentityOf(ctx, ctx.session, input.params);
    const permissions = await wizard.validatePermissions(ctx, await wizard.loadSession(ctx, ctx.session.id));
    const after = await wizard.loadSession(ctx, ctx.session.id);
    return { identity, checks: permissions.checks, view: handoffView(ctx.share, after) };
  }),

  /** The operator's "Verify trust", for the customer who just ran the artifacts: reads, changes nothing. */
  verifyTrust: handoffProcedure
    .input(HandoffInput)
    .output(VerifyTrustResult)
    .mutation(({ ctx }) => verifySessionTrust(ctx, ctx.session)),
} satisfies TRPCRouterRecord;
