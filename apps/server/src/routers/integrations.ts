import {
  boundedText,
  DisconnectResult,
  DockerHubConnectInput,
  HuggingFaceConnectInput,
  IntegrationKind,
  LinkInput,
  MutationResult,
  OrgInput,
  PublicIntegration,
} from '@alphaswarm/contracts';
import { listOrgs } from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import * as svc from '../services/integrations';
import { adminProcedure, runIdOf, stepUpProcedure } from '../trpc';

export const integrationsRouter = {
  list: adminProcedure
    .input(OrgInput)
    .output(z.object({ integrations: z.array(PublicIntegration) }))
    .query(async ({ ctx, input }) => ({ integrations: await svc.listIntegrations(ctx.rt, input.org_id) })),

  get: adminProcedure
    .input(LinkInput)
    .output(z.object({ integration: PublicIntegration }))
    .query(async ({ ctx, input }) => ({ integration: await svc.getIntegration(ctx.rt, input.org_id, input.kind) })),

  orgs: adminProcedure
    .input(
      z.object({
        search: boundedText(64).optional(),
        cursor: boundedText(64).nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(async ({ ctx, input }) => {
      const orgs = await listOrgs(ctx.rt.store.db, {
        search: input.search,
        afterOrg: input.cursor ?? null,
        limit: input.limit,
      });
      return { orgs, next_cursor: orgs.length === input.limit ? (orgs.at(-1)?.org_id ?? null) : null };
    }),

  connect: {
    huggingface: stepUpProcedure
      .meta({ kind: 'huggingface' })
      .input(OrgInput.extend(HuggingFaceConnectInput.shape))
      .output(MutationResult)
      .mutation(async ({ ctx, input }) => {
        const { org_id, ...rest } = input;
        return { integration: await svc.connectPat(ctx.rt, 'huggingface', org_id, rest), audit_run_id: runIdOf(ctx) };
      }),
    dockerHub: stepUpProcedure
      .meta({ kind: 'docker_hub' })
      .input(OrgInput.extend(DockerHubConnectInput.shape))
      .output(MutationResult)
      .mutation(async ({ ctx, input }) => {
        const { org_id, ...rest } = input;
        return { integration: await svc.connectPat(ctx.rt, 'docker_hub', org_id, rest), audit_run_id: runIdOf(ctx) };
      }),
  },

  disconnect: stepUpProcedure
    .input(LinkInput)
    .output(DisconnectResult)
    .mutation(async ({ ctx, input }) => {
      const gone = await svc.disconnect(ctx.rt, input.org_id, input.kind);
      return {
        disconnected: true as const,
        org_id: input.org_id,
        kind: input.kind,
        ...gone,
        audit_run_id: runIdOf(ctx),
      };
    }),

  checkHealth: stepUpProcedure
    .input(LinkInput)
    .output(MutationResult)
    .mutation(async ({ ctx, input }) => ({
      integration: await svc.checkHealth(ctx.rt, input.org_id, input.kind),
      audit_run_id: runIdOf(ctx),
    })),

  /** Roll the stored upstream token (Cloudflare); the new value is stored before this answers. */
  rotate: stepUpProcedure
    .input(z.object({ org_id: OrgInput.shape.org_id, kind: IntegrationKind }))
    .output(MutationResult)
    .mutation(async ({ ctx, input }) => ({
      integration: await svc.rotateSecret(ctx.rt, input.org_id, input.kind),
      audit_run_id: runIdOf(ctx),
    })),
} satisfies TRPCRouterRecord;
