import { and, asc, count, eq, inArray, isNotNull, min, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../database';
import type { IntegrationRow } from './integrations';

export interface LinkStats {
  /** Links per kind and status. */
  byKindStatus: { kind: string; status: string; n: number }[];
  /** The nearest recorded expiry per kind (RFC 3339), kinds with none left out. */
  nearestExpiry: { kind: string; expiresAt: string }[];
}

/**
 * Counts for metrics and the console's summary, platform-wide or of `orgIds` only: two grouped
 * reads, no row leaves.
 */
export async function linkStats(db: Database, opts: { orgIds?: string[] } = {}): Promise<LinkStats> {
  const integrations = db.t.integrations;
  const mine = opts.orgIds ? inArray(integrations.orgId, opts.orgIds) : undefined;
  const byKindStatus = await db.q
    .select({ kind: integrations.kind, status: integrations.status, n: count() })
    .from(integrations)
    .where(mine)
    .groupBy(integrations.kind, integrations.status);
  const nearest = await db.q
    .select({ kind: integrations.kind, expiresAt: min(integrations.expiresAt) })
    .from(integrations)
    .where(and(isNotNull(integrations.expiresAt), mine))
    .groupBy(integrations.kind);
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
  db: Database,
  opts: { orgId?: string | null; orgIds?: string[]; limit: number },
): Promise<IntegrationRow[]> {
  const integrations = db.t.integrations;
  return db.q
    .select()
    .from(integrations)
    .where(
      and(
        ne(integrations.status, 'healthy'),
        opts.orgId ? eq(integrations.orgId, opts.orgId) : undefined,
        opts.orgIds ? inArray(integrations.orgId, opts.orgIds) : undefined,
      ),
    )
    .orderBy(
      sql`case ${integrations.status} when 'degraded' then 1 else 0 end`,
      sql`case when ${integrations.expiresAt} is null then 1 else 0 end`,
      asc(integrations.expiresAt),
      asc(integrations.credentialKey),
    )
    .limit(opts.limit);
}

/** What the organisations page filters on: a status, or `attention` (any status but healthy). */
export type OrgStatusFilter = 'healthy' | 'degraded' | 'unhealthy' | 'needs_reconnect' | 'attention';

export interface OrgOverview {
  org_id: string;
  total: number;
  by_status: Record<string, number>;
  /** The kinds this org has linked, in kind-id order. */
  kinds: string[];
  /** The nearest recorded expiry among its links. */
  soonest_expiry: string | null;
}

/**
 * Orgs with their counts by status and linked kinds, filtered by search, status and kind. Sorted
 * by org id (keyset after `afterOrg`) or by attention: orgs with an unhealthy or needs_reconnect
 * link first, then degraded, then the soonest expiry; paged by `offset` (the order moves as links
 * change, so no key is stable).
 */
export async function orgOverview(
  db: Database,
  opts: {
    search?: string | undefined;
    /** Only these orgs (an org admin's). */
    orgIds?: string[];
    status?: OrgStatusFilter | undefined;
    kind?: string | undefined;
    sort: 'org' | 'attention';
    afterOrg?: string | null;
    offset?: number;
    limit: number;
  },
): Promise<OrgOverview[]> {
  const integrations = db.t.integrations;
  const bad = sql`sum(case when ${integrations.status} in ('unhealthy', 'needs_reconnect') then 1 else 0 end)`;
  const warn = sql`sum(case when ${integrations.status} = 'degraded' then 1 else 0 end)`;
  const where = and(
    opts.search
      ? sql`${integrations.orgId} like ${`%${opts.search.replace(/[%_\\]/g, (c) => `\\${c}`)}%`} escape '\\'`
      : undefined,
    opts.orgIds ? inArray(integrations.orgId, opts.orgIds) : undefined,
  );
  const having: SQL[] = [];
  if (opts.status === 'attention') having.push(sql`${bad} + ${warn} > 0`);
  else if (opts.status) having.push(sql`sum(case when ${integrations.status} = ${opts.status} then 1 else 0 end) > 0`);
  if (opts.kind) having.push(sql`sum(case when ${integrations.kind} = ${opts.kind} then 1 else 0 end) > 0`);
  if (opts.sort === 'org' && opts.afterOrg) having.push(sql`${integrations.orgId} > ${opts.afterOrg}`);
  const soonest = min(integrations.expiresAt);
  const orgs = await db.q
    .select({ orgId: integrations.orgId, soonest })
    .from(integrations)
    .where(where)
    .groupBy(integrations.orgId)
    .having(having.length ? and(...having) : undefined)
    .orderBy(
      ...(opts.sort === 'attention'
        ? [
            sql`case when ${bad} > 0 then 0 when ${warn} > 0 then 1 else 2 end`,
            sql`case when ${soonest} is null then 1 else 0 end`,
            asc(soonest),
          ]
        : []),
      asc(integrations.orgId),
    )
    .limit(opts.limit)
    .offset(opts.sort === 'attention' ? (opts.offset ?? 0) : 0);
  if (orgs.length === 0) return [];
  const ids = orgs.map((o) => o.orgId);
  const counts = await db.q
    .select({ orgId: integrations.orgId, kind: integrations.kind, status: integrations.status })
    .from(integrations)
    .where(inArray(integrations.orgId, ids))
    .orderBy(asc(integrations.kind));
  return orgs.map((o) => {
    const rows = counts.filter((c) => c.orgId === o.orgId);
    const byStatus: Record<string, number> = {};
    for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    return {
      org_id: o.orgId,
      total: rows.length,
      by_status: byStatus,
      kinds: rows.map((r) => r.kind),
      soonest_expiry: o.soonest ?? null,
    };
  });
}
