import { AuditAction, boundedText, IntegrationKind, OrgId, Timestamp } from '@alphaswarm/contracts';
import { exportHeader, exportLine, listAudit, toAuditRecord, verifyAudit } from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors';
import { emitAlert, verifyFailedAlert } from '../services/awareness';
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

/** The most rows one `audit.export` answers; past it, `truncated` says to narrow the filter or use the CLI. */
export const AUDIT_EXPORT_MAX_ROWS = 10_000;

export const AuditExportInput = AuditListInput.omit({ cursor: true, limit: true }).extend({
  format: z.enum(['jsonl', 'csv']),
});

type AuditFilterInput = Omit<z.infer<typeof AuditListInput>, 'cursor' | 'limit'>;

/** The repository filter for `input`, narrowed to the caller's orgs (an `admin:org:<org_id>` caller sees only those). */
function filterFor(orgs: string[] | null, input: AuditFilterInput) {
  if (orgs && input.org_id && !orgs.includes(input.org_id)) {
    throw new AppError('not_found', `Nothing of org ${input.org_id} is available to you.`);
  }
  return {
    orgId: input.org_id,
    ...(orgs ? { orgIds: orgs } : {}),
    kind: input.kind,
    action: input.action,
    outcome: input.outcome,
    runId: input.run_id,
    from: input.from,
    to: input.to,
  };
}

export const auditRouter = {
  list: adminProcedure
    .meta({ reach: 'filtered' })
    .input(AuditListInput)
    .query(async ({ ctx, input }) => {
      const rows = await listAudit(ctx.db, filterFor(ctx.access?.orgs ?? null, input), {
        ...(input.cursor ? { beforeSeq: input.cursor } : {}),
        limit: input.limit,
      });
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
  /**
   * The events `list` would show for these filters, oldest first, formatted as `audit-export` formats
   * them (each line with its link, so a JSONL export of a whole range verifies offline).
   */
  export: adminProcedure
    .meta({ reach: 'filtered' })
    .input(AuditExportInput)
    .query(async ({ ctx, input }) => {
      const rows = await listAudit(ctx.db, filterFor(ctx.access?.orgs ?? null, input), {
        limit: AUDIT_EXPORT_MAX_ROWS + 1,
      });
      const truncated = rows.length > AUDIT_EXPORT_MAX_ROWS;
      // Newest first from the query; the newest AUDIT_EXPORT_MAX_ROWS, written oldest first.
      const kept = rows.slice(0, AUDIT_EXPORT_MAX_ROWS).reverse();
      const header = exportHeader(input.format);
      const lines = kept.map((r) => exportLine(toAuditRecord(r), input.format));
      const stamp = isoStamp(ctx.now());
      return {
        filename: `audit-${stamp}.${input.format}`,
        content: `${[...(header ? [header] : []), ...lines].join('\n')}\n`,
        rows: kept.length,
        truncated,
      };
    }),
  /** A chain that does not verify is also an alert (`com.alphaswarm.audit.verify_failed`). */
  verify: adminProcedure.query(async ({ ctx }) => {
    const verdict = await verifyAudit(ctx.db, { ring: ctx.auditKeys, requireKeyed: true });
    if (!verdict.ok) await emitAlert(ctx, verifyFailedAlert('audit.verify', verdict.checked, verdict.divergence));
    return verdict;
  }),
} satisfies TRPCRouterRecord;

function isoStamp(now: Date): string {
  return now.toISOString().slice(0, 19).replaceAll(':', '').replace('T', '-');
}
