import { type AuditAction, IntegrationKind, isAuditAction, OrgId } from '@alphaswarm/contracts';

const OUTCOMES = ['started', 'success', 'failure', 'denied'] as const;
type Outcome = (typeof OUTCOMES)[number];

/** `datetime-local` (read as UTC) or RFC 3339 → RFC 3339 UTC with Z; null if it is neither. */
function toTimestamp(raw: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(\.\d+)?Z?$/.exec(raw);
  if (!m) return null;
  const ts = `${m[1]}T${m[2]}${m[3] ?? ':00'}Z`;
  return Number.isNaN(Date.parse(ts)) ? null : ts;
}

export interface AuditFilterInput {
  org_id?: string;
  kind?: IntegrationKind;
  action?: AuditAction;
  outcome?: Outcome;
  run_id?: string;
  from?: string;
  to?: string;
}

/**
 * The audit page's filters from its query string: what to show in the form, what to send the API,
 * and what was not understood. The timeline and its CSV/JSONL export read the same filters.
 */
export function auditFilters(q: URLSearchParams) {
  const get = (k: string) => (q.get(k) ?? '').trim().slice(0, 128);
  const filters = {
    org_id: get('org_id'),
    kind: get('kind'),
    action: get('action'),
    outcome: get('outcome'),
    run_id: get('run_id'),
    from: get('from'),
    to: get('to'),
  };
  const problems: Record<string, string> = {};
  const input: AuditFilterInput = {};
  if (filters.org_id) {
    const org = OrgId.safeParse(filters.org_id);
    if (org.success) input.org_id = org.data;
    else problems.org_id = org.error.issues[0]?.message ?? 'Invalid org_id.';
  }
  if (filters.kind) {
    const kind = IntegrationKind.safeParse(filters.kind);
    if (kind.success) input.kind = kind.data;
    else problems.kind = 'Unknown kind.';
  }
  if (filters.action) {
    if (isAuditAction(filters.action)) input.action = filters.action;
    else problems.action = 'Unknown action.';
  }
  if (filters.outcome) {
    if ((OUTCOMES as readonly string[]).includes(filters.outcome)) input.outcome = filters.outcome as Outcome;
    else problems.outcome = 'Unknown outcome.';
  }
  if (filters.run_id) input.run_id = filters.run_id.slice(0, 64);
  for (const k of ['from', 'to'] as const) {
    if (!filters[k]) continue;
    const ts = toTimestamp(filters[k]);
    if (ts) input[k] = ts;
    else problems[k] = 'Use a date and time like 2026-05-27T20:00 (UTC).';
  }
  return { filters, input, problems };
}
