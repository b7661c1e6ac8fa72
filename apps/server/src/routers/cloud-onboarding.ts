import {
  BootstrapArtifacts,
  CloudKind,
  IdentityParamsInput,
  IdentityResult,
  MutationResult,
  OrgId,
  OrgInput,
  PermissionCheck,
  ResourcesResult,
  SessionId,
  WizardStartInput,
} from '@alphaswarm/contracts';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import * as wizard from '../services/wizard';
import { actorOf, adminProcedure, runIdOf, stepUpProcedure } from '../trpc';

/** Every step names its session; org_id/kind, when given, must match it (else NOT_FOUND). */
const Session = z.object({
  session_id: SessionId,
  org_id: OrgId.optional(),
  kind: CloudKind.optional(),
});

export const cloudOnboardingRouter = {
  start: stepUpProcedure.input(WizardStartInput).mutation(async ({ ctx, input }) => ({
    ...(await wizard.startSession(ctx.rt, input.org_id, input.kind, actorOf(ctx).actor)),
    audit_run_id: runIdOf(ctx),
  })),

  get: adminProcedure
    .input(Session)
    .query(async ({ ctx, input }) => wizard.sessionView(await wizard.loadSession(ctx.rt, input.session_id, input))),

  list: adminProcedure
    .input(OrgInput)
    .query(async ({ ctx, input }) => ({ sessions: await wizard.listSessions(ctx.rt, input.org_id) })),

  bootstrapArtifacts: stepUpProcedure
    .input(Session)
    .output(BootstrapArtifacts)
    .mutation(async ({ ctx, input }) =>
      wizard.bootstrapArtifacts(ctx.rt, await wizard.loadSession(ctx.rt, input.session_id, input)),
    ),

  validateIdentity: stepUpProcedure
    .input(Session.extend({ params: IdentityParamsInput }))
    .output(IdentityResult)
    .mutation(async ({ ctx, input }) =>
      wizard.validateIdentity(ctx.rt, await wizard.loadSession(ctx.rt, input.session_id, input), input.params),
    ),

  validatePermissions: stepUpProcedure
    .input(Session)
    .output(z.object({ checks: z.array(PermissionCheck) }))
    .mutation(async ({ ctx, input }) =>
      wizard.validatePermissions(ctx.rt, await wizard.loadSession(ctx.rt, input.session_id, input)),
    ),

  enumerateResources: stepUpProcedure
    .input(Session)
    .output(ResourcesResult)
    .mutation(async ({ ctx, input }) =>
      wizard.enumerateResources(ctx.rt, await wizard.loadSession(ctx.rt, input.session_id, input)),
    ),

  connect: stepUpProcedure
    .input(Session)
    .output(MutationResult)
    .mutation(async ({ ctx, input }) =>
      wizard.connect(ctx.rt, await wizard.loadSession(ctx.rt, input.session_id, input), runIdOf(ctx)),
    ),
} satisfies TRPCRouterRecord;
