import {
  boundedText,
  type ConnectProcedure,
  DisconnectResult,
  HealthTimeline,
  IntegrationKind,
  IntegrationStatus,
  kinds,
  LinkInput,
  MutationResult,
  OrgId,
  OrgInput,
  PAT_KINDS,
  type PatKind,
  PublicIntegration,
} from '@alphaswarm/contracts';
import { linkStats, linksNeedingAttention, listHealthHistory, orgOverview, toPublic } from '@alphaswarm/db';
import { descriptors, type InputOf } from '@alphaswarm/providers';
import type { TRPCMutationProcedure, TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { checkHealth, checkHealthMany } from '../services/health';
import * as svc from '../services/integrations';
import { healthTimeline } from '../services/timeline';
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

  /**
   * Orgs with counts by status and linked kinds. `sort: 'attention'` puts orgs with an unhealthy or
   * needs_reconnect link first, then degraded, then the soonest expiry; its cursor is `@<offset>`.
   * An `admin:org:<org_id>` caller sees only its orgs.
   */
  orgs: adminProcedure
    .meta({ reach: 'filtered' })
    .input(
      z.object({
        search: boundedText(64).optional(),
        status: z.union([IntegrationStatus, z.literal('attention')]).optional(),
        kind: IntegrationKind.optional(),
        sort: z.enum(['org', 'attention']).default('org'),
        cursor: boundedText(64).nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(async ({ ctx, input }) => {
      const offset = input.sort === 'attention' ? Number(/^@(\d{1,9})$/.exec(input.cursor ?? '')?.[1] ?? 0) : 0;
      const mine = ctx.access?.orgs ?? null;
      let orgs = await orgOverview(ctx.db, {
        search: input.search,
        status: input.status,
        kind: input.kind,
        sort: input.sort,
        afterOrg: input.sort === 'org' ? (input.cursor ?? null) : null,
        offset,
        limit: input.limit,
        ...(mine ? { orgIds: mine } : {}),
      });
      if (mine && !input.status && !input.kind) {
        // An org admin's orgs are listed even before they have a link: that is where they start.
        const search = input.search?.toLowerCase();
        const after = input.sort === 'org' ? input.cursor : null;
        const empty = mine
          .filter((id) => !orgs.some((o) => o.org_id === id))
          .filter((id) => (!search || id.toLowerCase().includes(search)) && (!after || id > after))
          .map((org_id) => ({ org_id, total: 0, by_status: {}, kinds: [], soonest_expiry: null }));
        orgs = [...orgs, ...empty];
        if (input.sort === 'org') orgs.sort((a, c) => (a.org_id < c.org_id ? -1 : 1));
        orgs = orgs.slice(0, input.limit);
      }
      const full = orgs.length === input.limit;
      const next = input.sort === 'attention' ? `@${offset + orgs.length}` : (orgs.at(-1)?.org_id ?? null);
      return { orgs, next_cursor: full ? next : null };
    }),

  /**
   * The platform at a glance: links by status and kind, and the most urgent links needing action.
   * An `admin:org:<org_id>` caller gets the same of its orgs only, named in `orgs` (null: every org).
   */
  attention: adminProcedure
    .meta({ reach: 'filtered' })
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }).default({ limit: 20 }))
    .query(async ({ ctx, input }) => {
      const mine = ctx.access?.orgs ?? null;
      const stats = await linkStats(ctx.db, mine ? { orgIds: mine } : {});
      const byStatus: Partial<Record<IntegrationStatus, number>> = {};
      const byKind: Partial<Record<IntegrationKind, Partial<Record<IntegrationStatus, number>>>> = {};
      for (const row of stats.byKindStatus) {
        const status = row.status as IntegrationStatus;
        const kind = row.kind as IntegrationKind;
        byStatus[status] = (byStatus[status] ?? 0) + row.n;
        byKind[kind] = { ...byKind[kind], [status]: row.n };
      }
      const rows = await linksNeedingAttention(ctx.db, { limit: input.limit, ...(mine ? { orgIds: mine } : {}) });
      return {
        orgs: mine,
        by_status: byStatus,
        by_kind: byKind,
        links: rows.map((row) => ({ ...toPublic(row), expires_at: row.expiresAt })),
      };
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

  /** The link's probe history (connect, re-check, sweep, rotate), newest first; `cursor` is the last `id` seen. */
  history: adminProcedure
    .input(
      z.object({
        org_id: OrgId,
        kind: IntegrationKind,
        limit: z.number().int().min(1).max(1000).default(100),
        cursor: z.number().int().positive().nullish(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const rows = await listHealthHistory(ctx.db, {
        orgId: input.org_id,
        kind: input.kind,
        beforeId: input.cursor ?? null,
        limit: input.limit,
      });
      return {
        history: rows.map((r) => ({
          id: r.id,
          at: r.at,
          source: r.source,
          // Parsed, not cast: a stored value is checked, and the published client's types spell it out.
          result: IntegrationStatus.parse(r.result),
          latency_ms: r.latencyMs,
          error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '' } : null,
          expires_at: r.expiresAt,
        })),
        next_cursor: rows.length === input.limit ? (rows.at(-1)?.id ?? null) : null,
      };
    }),

  /**
   * Each link's probes per UTC day over the last `days` days (default 90, or the history kept
   * when shorter; at most the history kept), counted by result with each day's worst: the org
   * page's timeline in one read. `kind` narrows it to one link.
   */
  timeline: adminProcedure
    .input(
      z.object({
        org_id: OrgId,
        kind: IntegrationKind.optional(),
        days: z.number().int().min(1).max(3650).optional(),
      }),
    )
    .output(HealthTimeline)
    .query(({ ctx, input }) => healthTimeline(ctx, input)),

  /** Re-check every link of an org, or (no org) every link needing attention, at most 200 at a time. */
  checkHealthMany: stepUpProcedure.input(z.object({ org_id: OrgId.optional() })).mutation(async ({ ctx, input }) => ({
    ...(await checkHealthMany(ctx, input.org_id ?? null)),
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
