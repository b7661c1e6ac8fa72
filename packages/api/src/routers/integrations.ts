import {
  boundedText,
  type ConnectProcedure,
  DisconnectResult,
  IntegrationKind,
  kinds,
  LinkInput,
  MutationResult,
  OrgId,
  OrgInput,
  PAT_KINDS,
  type PatKind,
  PublicIntegration,
} from '@alphaswarm/contracts';
import { listOrgs } from '@alphaswarm/db';
import { descriptors, type InputOf } from '@alphaswarm/providers';
import type { TRPCMutationProcedure, TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { checkHealth } from '../services/health';
import * as svc from '../services/integrations';
import { adminProcedure, stepUpProcedure } from '../trpc';

/** A PAT kind's connect: its input checked once, here, against the kind's descriptor; typed from here on. */
function connectProcedure<K extends PatKind>(kind: K) {
  return stepUpProcedure
    .meta({ kind })
    .input(descriptors[kind].inputSchema.extend({ org_id: OrgId }))
    .output(MutationResult)
    .mutation(async ({ ctx, input }) => {
      const { org_id, ...rest } = input;
      // Indexing the descriptors by a generic kind widens the input to every kind's: it is this kind's.
      return { integration: await svc.connectPat(ctx, kind, org_id, rest as InputOf<K>), audit_run_id: ctx.runId };
    });
}

/**
 * Each kind's procedure typed with that kind's input only: the body above is typed for every
 * kind at once (a generic index widens), so a caller could otherwise pass one kind's input to
 * another kind's procedure and learn of it only from the server's 400.
 */
type ConnectRouter = {
  [K in PatKind as ConnectProcedure<K>]: TRPCMutationProcedure<
    Omit<DefOf<ReturnType<typeof connectProcedure<K>>>, 'input'> & {
      input: z.input<(typeof descriptors)[K]['inputSchema']> & { org_id: string };
    }
  >;
};
type DefOf<P> = P extends TRPCMutationProcedure<infer D> ? D : never;

/** `integrations.connect.<name>`, one per PAT kind, named by the kind's facts. */
const connect = Object.fromEntries(
  PAT_KINDS.map((kind) => [kinds[kind].connectProcedure, connectProcedure(kind)]),
) as unknown as ConnectRouter;

export const integrationsRouter = {
  list: adminProcedure
    .input(OrgInput)
    .output(z.object({ integrations: z.array(PublicIntegration) }))
    .query(async ({ ctx, input }) => ({ integrations: await svc.listIntegrations(ctx, input.org_id) })),

  get: adminProcedure
    .input(LinkInput)
    .output(z.object({ integration: PublicIntegration }))
    .query(async ({ ctx, input }) => ({ integration: await svc.getIntegration(ctx, input.org_id, input.kind) })),

  /** An `admin:org:<org_id>` caller sees only its orgs. */
  orgs: adminProcedure
    .meta({ reach: 'filtered' })
    .input(
      z.object({
        search: boundedText(64).optional(),
        cursor: boundedText(64).nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(async ({ ctx, input }) => {
      const mine = ctx.access?.orgs ?? null;
      let orgs = await listOrgs(ctx.db, {
        search: input.search,
        afterOrg: input.cursor ?? null,
        limit: input.limit,
        ...(mine ? { orgIds: mine } : {}),
      });
      if (mine) {
        // An org admin's orgs are listed even before they have a link: that is where they start.
        const search = input.search?.toLowerCase();
        const empty = mine
          .filter((id) => !orgs.some((o) => o.org_id === id))
          .filter((id) => (!search || id.toLowerCase().includes(search)) && (!input.cursor || id > input.cursor))
          .map((org_id) => ({ org_id, total: 0, by_status: {} }));
        orgs = [...orgs, ...empty].sort((a, b) => (a.org_id < b.org_id ? -1 : 1)).slice(0, input.limit);
      }
      return { orgs, next_cursor: orgs.length === input.limit ? (orgs.at(-1)?.org_id ?? null) : null };
    }),

  connect,

  disconnect: stepUpProcedure
    .input(LinkInput)
    .output(DisconnectResult)
    .mutation(async ({ ctx, input }) => {
      const gone = await svc.disconnect(ctx, input.org_id, input.kind);
      return {
        disconnected: true as const,
        org_id: input.org_id,
        kind: input.kind,
        ...gone,
        audit_run_id: ctx.runId,
      };
    }),

  checkHealth: stepUpProcedure
    .input(LinkInput)
    .output(MutationResult)
    .mutation(async ({ ctx, input }) => ({
      integration: await checkHealth(ctx, input.org_id, input.kind),
      audit_run_id: ctx.runId,
    })),

  /** Roll the stored upstream token (kinds whose facts say it is rotatable); the new value is stored before this answers. */
  rotate: stepUpProcedure
    .input(z.object({ org_id: OrgId, kind: IntegrationKind }))
    .output(MutationResult)
    .mutation(async ({ ctx, input }) => ({
      integration: await svc.rotateSecret(ctx, input.org_id, input.kind),
      audit_run_id: ctx.runId,
    })),
} satisfies TRPCRouterRecord;
