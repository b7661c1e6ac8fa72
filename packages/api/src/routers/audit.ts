import { AuditAction, boundedText, IntegrationKind, OrgId, Timestamp } from '@alphaswarm/contracts';
import { listAudit, verifyAudit } from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors';
import { adminProcedure } from '../trpc';

export const AuditListInput = z.object({
  org_id: OrgId.optional(),
  kind: IntegrationKind.optional(),
  action: AuditAction.optional(),
  outcome: z.enum(['started', 'success', 'failure', 'denied']).optional(),
  run_id: boundedText(64).optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  cursor: z.number().int().positive().nullish(),
  limit: z.number().int().min(1).max(500).default(50),
});

export const auditRouter = {
  /** An `admin:org:<org_id>` caller sees only its orgs' events. */
  list: adminProcedure
    .meta({ reach: 'filtered' })
    .input(AuditListInput)
    .query(async ({ ctx, input }) => {
      const orgs = ctx.access?.orgs ?? null;
      if (orgs && input.org_id && !orgs.includes(input.org_id)) {
        throw new AppError('not_found', `Nothing of org ${input.org_id} is available to you.`);
      }
      const rows = await listAudit(
        ctx.db,
        {
          orgId: input.org_id,
          ...(orgs ? { orgIds: orgs } : {}),
          kind: input.kind,
          action: input.action,
          outcome: input.outcome,
          runId: input.run_id,
          from: input.from,
          to: input.to,
        },
        { ...(input.cursor ? { beforeSeq: input.cursor } : {}), limit: input.limit },
      );
      return {
        events: rows.map((r) => ({
          seq: r.seq,
          id: r.id,
          run_id: r.runId,
          at: r.at,
          actor: r.actor,
          client_ip: r.clientIp,
          action: r.action,
          phase: r.phase,
          outcome: r.outcome,
          org_id: r.orgId,
          kind: r.kind,
          credential_key: r.credentialKey,
          detail: r.detail,
          hash: r.hash,
        })),
        next_cursor: rows.length === input.limit ? (rows.at(-1)?.seq ?? null) : null,
      };
    }),
  verify: adminProcedure.query(async ({ ctx }) => verifyAudit(ctx.db, { ring: ctx.auditKeys, requireKeyed: true })),
} satisfies TRPCRouterRecord;
