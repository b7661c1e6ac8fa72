import { and, asc, count, eq, isNotNull, min, ne, sql } from 'drizzle-orm';
import { integrations } from '../schema';
import type { Db } from '../sqlite';
import type { IntegrationRow } from './integrations';

export interface LinkStats {
  /** Links per kind and status. */
  byKindStatus: { kind: string; status: string; n: number }[];
  /** The nearest recorded expiry per kind (RFC 3339), kinds with none left out. */
  nearestExpiry: { kind: string; expiresAt: string }[];
}

/** Platform-wide counts for metrics and the console's summary: two grouped reads, no row leaves. */
export async function linkStats(db: Db): Promise<LinkStats> {
  const byKindStatus = db
    .select({ kind: integrations.kind, status: integrations.status, n: count() })
    .from(integrations)
    .groupBy(integrations.kind, integrations.status)
    .all();
  const nearest = db
    .select({ kind: integrations.kind, expiresAt: min(integrations.expiresAt) })
    .from(integrations)
    .where(isNotNull(integrations.expiresAt))
    .groupBy(integrations.kind)
    .all();
  return {
    byKindStatus,
    nearestExpiry: nearest.flatMap((r) => (r.expiresAt ? [{ kind: r.kind, expiresAt: r.expiresAt }] : [])),
  };
}

/**
 * Links that are not healthy, most urgent first: unhealthy and needs_reconnect, then degraded;
 * within each, the soonest expiry first (none last), then by key so pages are stable.
 */
export async function linksNeedingAttention(
  db: Db,
  opts: { orgId?: string | null; limit: number },
): Promise<IntegrationRow[]> {
  return db
    .select()
    .from(integrations)
    .where(and(ne(integrations.status, 'healthy'), opts.orgId ? eq(integrations.orgId, opts.orgId) : undefined))
    .orderBy(
      sql`case ${integrations.status} when 'degraded' then 1 else 0 end`,
      sql`case when ${integrations.expiresAt} is null then 1 else 0 end`,
      asc(integrations.expiresAt),
      asc(integrations.credentialKey),
    )
    .limit(opts.limit)
    .all();
}
