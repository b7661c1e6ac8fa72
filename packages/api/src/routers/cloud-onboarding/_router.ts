import {
  BootstrapArtifacts,
  IdentityResult,
  MutationResult,
  OrgInput,
  PermissionCheck,
  ResourcesResult,
  VerifyTrustResult,
  WizardStartInput,
} from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import * as shares from '../../services/shares';
import { verifySessionTrust } from '../../services/verify-trust';
import * as wizard from '../../services/wizard';
import { adminProcedure, stepUpProcedure } from '../../trpc';
import {
  BootstrapArtifactsInput,
  DiscardInput,
  RevokeShareInput,
  SessionStep,
  ShareInput,
  ValidateIdentityInput,
} from './cloud-onboarding.schema';
import { validateIdentityHandler } from './validate-identity.handler';

export const cloudOnboardingRouter = {
  start: stepUpProcedure.input(WizardStartInput).mutation(async ({ ctx, input }) => ({
    ...(await wizard.startSession(ctx, input.org_id, input.kind, ctx.principal.actor)),
    audit_run_id: ctx.runId,
  })),

  get: adminProcedure.input(SessionStep).query(async ({ ctx, input }) => {
    const row = await wizard.loadSession(ctx, input.session_id, input);
    return { ...wizard.sessionView(row), version: row.version, shares: await shares.sessionShares(ctx, row.id) };
  }),

  /** One row, a few hundred bytes: what the operator's page polls for the customer's progress. */
  progress: adminProcedure
    .input(SessionStep)
    .query(async ({ ctx, input }) => wizard.sessionProgress(await wizard.loadSession(ctx, input.session_id, input))),

  list: adminProcedure
    .input(OrgInput)
    .query(async ({ ctx, input }) => ({ sessions: await wizard.listSessions(ctx, input.org_id) })),

  bootstrapArtifacts: stepUpProcedure
    .input(BootstrapArtifactsInput)
    .output(BootstrapArtifacts)
    .mutation(async ({ ctx, input }) =>
      wizard.bootstrapArtifacts(ctx, await wizard.loadSession(ctx, input.session_id, input), {
        project_id: input.project_id,
      }),
    ),

  /** Read the workload issuer as a cloud would and compare it with our keys; changes nothing. */
  verifyTrust: adminProcedure
    .input(SessionStep)
    .output(VerifyTrustResult)
    .mutation(async ({ ctx, input }) => {
      return verifySessionTrust(ctx, await wizard.loadSession(ctx, input.session_id, input));
    }),

  validateIdentity: stepUpProcedure
    .input(ValidateIdentityInput)
    .output(IdentityResult)
    .mutation(({ ctx, input }) => validateIdentityHandler(ctx, input)),

  validatePermissions: stepUpProcedure
    .input(SessionStep)
    .output(z.object({ checks: z.array(PermissionCheck) }))
    .mutation(async ({ ctx, input }) =>
      wizard.validatePermissions(ctx, await wizard.loadSession(ctx, input.session_id, input)),
    ),

  enumerateResources: stepUpProcedure
    .input(SessionStep)
    .output(ResourcesResult)
    .mutation(async ({ ctx, input }) =>
      wizard.enumerateResources(ctx, await wizard.loadSession(ctx, input.session_id, input)),
    ),

  connect: stepUpProcedure
    .input(SessionStep)
    .output(MutationResult)
    .mutation(async ({ ctx, input }) =>
      wizard.connect(ctx, await wizard.loadSession(ctx, input.session_id, input), ctx.runId),
    ),

  /** A link for the customer's cloud admin: shown once (only its hash is kept), revocable. */
  share: stepUpProcedure.input(ShareInput).mutation(async ({ ctx, input }) => ({
    ...(await shares.createShareLink(
      ctx,
      await wizard.loadSession(ctx, input.session_id, input),
      input.ttl_seconds,
      ctx.principal.actor,
    )),
    audit_run_id: ctx.runId,
  })),

  /** Give up on an unfinished session: it leaves the list to resume, and its hand-off links stop working. */
  discard: stepUpProcedure.input(DiscardInput).mutation(async ({ ctx, input }) => ({
    ...(await wizard.discardSession(ctx, await wizard.loadSession(ctx, input.session_id, input))),
    audit_run_id: ctx.runId,
  })),

  /** One link by its id, or every link of a session. */
  revokeShare: stepUpProcedure
    .input(RevokeShareInput)
    .mutation(async ({ ctx, input }) =>
      'share_id' in input
        ? shares.revokeShareLinks(ctx, { share_id: input.share_id })
        : shares.revokeShareLinks(ctx, { session: await wizard.loadSession(ctx, input.session_id, input) }),
    ),
} satisfies TRPCRouterRecord;
