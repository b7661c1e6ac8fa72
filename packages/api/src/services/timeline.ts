import {
  type HealthDay,
  type HealthTimeline,
  IntegrationKind,
  IntegrationStatus,
  STATUS_SEVERITY,
} from '@alphaswarm/contracts';
import { healthByDay } from '@alphaswarm/db';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';

const DAY_MS = 86_400_000;
/** A quarter: the org page's view. */
export const DEFAULT_TIMELINE_DAYS = 90;

/**
 * An org's health timeline: the last `days` UTC days up to and including today, each link's
 * probes counted per day and result by the database (one grouped read for the whole org), and
 * the worst result of each day. Longer than the history kept, it would show pruned days as
 * empty ones, so it is refused.
 */
export async function healthTimeline(
  ctx: Pick<ApiDeps, 'db' | 'now' | 'config'>,
  input: { org_id: string; kind?: IntegrationKind | undefined; days?: number | undefined },
): Promise<HealthTimeline> {
  const keep = ctx.config.healthRetentionDays;
  const span = input.days ?? Math.min(DEFAULT_TIMELINE_DAYS, keep);
  if (span > keep) {
    throw new AppError(
      'invalid_request',
      `days must be at most ${keep}: history older than that is not kept (ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS).`,
      { field: 'days' },
    );
  }
  const today = Math.floor(ctx.now().getTime() / DAY_MS) * DAY_MS;
  const from = new Date(today - (span - 1) * DAY_MS).toISOString().slice(0, 10);
  const rows = await healthByDay(ctx.db, { orgId: input.org_id, kind: input.kind ?? null, from: `${from}T00:00:00Z` });
  const links = new Map<IntegrationKind, Map<string, HealthDay>>();
  for (const row of rows) {
    // Parsed, not cast: a stored value is checked, and the published client's types spell it out.
    const kind = IntegrationKind.parse(row.kind);
    const result = IntegrationStatus.parse(row.result);
    const days = links.get(kind) ?? new Map<string, HealthDay>();
    links.set(kind, days);
    const day = days.get(row.day) ?? {
      date: row.day,
      worst: result,
      counts: { healthy: 0, degraded: 0, unhealthy: 0, needs_reconnect: 0 },
    };
    day.counts[result] += row.n;
    if (STATUS_SEVERITY[result] > STATUS_SEVERITY[day.worst]) day.worst = result;
    days.set(row.day, day);
  }
  return {
    org_id: input.org_id,
    days: span,
    from,
    to: new Date(today).toISOString().slice(0, 10),
    links: [...links].map(([kind, days]) => ({ kind, days: [...days.values()] })),
  };
}
