import { type IntegrationKind, isProviderError, type PublicIntegration } from '@alphaswarm/contracts';
import {
  getLink,
  type IntegrationRow,
  isoNow,
  linksNeedingAttention,
  listLinks,
  MAX_VERDICTS_PER_WRITE,
  recordHealth,
  recordVerdicts,
  toPublic,
  type VerdictWrite,
} from '@alphaswarm/db';
import { descriptorFor, type HealthResult, providerFor, type StoredLink } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';
import { AppError, toAppError, wireCode } from '../errors';
import { announceVerdict, type ProbeSource, recordVerdict } from './awareness';
import { applyExpiryRule } from './expiry';
import { notFound, unseal } from './links';
import { providerContext } from './provider-context';

/** Upstream faults that say nothing about the credential itself. */
const TRANSIENT_CODES: string[] = ['upstream_unavailable', 'upstream_timeout', 'rate_limited'];

/** What a health probe needs: the API's dependencies (the sweeper passes the server's runtime). */
export type ProbeDeps = Pick<
  ApiDeps,
  'db' | 'keyring' | 'now' | 'http' | 'upstreams' | 'subjectTokens' | 'logger' | 'metrics' | 'config' | 'auditKeys'
>;

/** Re-run the kind's probe for one link and record the verdict. */
export async function checkHealth(
  deps: ProbeDeps,
  orgId: string,
  kind: IntegrationKind,
  signal?: AbortSignal,
): Promise<PublicIntegration> {
  const row = await getLink(deps.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return toPublic((await probeAndRecord(deps, row, signal)).row);
}

export interface ProbeOutcome {
  row: IntegrationRow;
  /** Set when the upstream asked us to slow down (429 Retry-After), in seconds. */
  retryAfterSeconds?: number;
  /** Whether the upstream answered (any verdict, a rejection included); unset when nothing was probed. */
  reached?: boolean;
}

/** Failures that mean the upstream itself could not be reached or would not serve: an outage, not a verdict. */
const UNREACHABLE_CODES = ['upstream_timeout', 'upstream_unavailable'];

/** Where a sweep's verdicts go: resolved once the verdict and its history row are committed. */
export interface VerdictWriter {
  record(verdict: VerdictWrite): Promise<IntegrationRow | undefined>;
}

/**
 * Group commit for a sweep: verdicts that arrive while the event loop is busy (or while the
 * previous transaction runs) are written together, each with its history row, in one transaction
 * (a transaction per probe was most of a sweep's database time). Every caller still waits for its
 * own commit, so nothing is reported probed before it is durable. A failed transaction is retried
 * one verdict at a time, so one bad verdict cannot sink the others.
 */
export function verdictWriter(db: ProbeDeps['db']): VerdictWriter {
  type Pending = { verdict: VerdictWrite; resolve(row: IntegrationRow | undefined): void; reject(e: unknown): void };
  let queue: Pending[] = [];
  let busy = false;
  const writeEach = async (batch: Pending[]) => {
    for (const p of batch) {
      try {
        p.resolve((await recordVerdicts(db, [p.verdict]))[0]);
      } catch (error) {
        p.reject(error);
      }
    }
  };
  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_VERDICTS_PER_WRITE);
      queue = queue.slice(batch.length);
      try {
        const rows = await recordVerdicts(
          db,
          batch.map((p) => p.verdict),
        );
        for (const [i, p] of batch.entries()) p.resolve(rows[i]);
      } catch (error) {
        if (batch.length === 1) batch[0]?.reject(error);
        else await writeEach(batch);
      }
    }
    busy = false;
  };
  return {
    record(verdict) {
      return new Promise((resolve, reject) => {
        queue.push({ verdict, resolve, reject });
        if (busy) return;
        busy = true;
        // After the I/O callbacks of this turn of the event loop: the probes they finish join in.
        setImmediate(() => void drain());
      });
    },
  };
}

/** How a sweep records its probes: through its group-commit writer, told when the upstream has answered. */
export interface SweepRecording {
  writer: VerdictWriter;
  /**
   * Called once the upstream has answered (or failed to), before the verdict is written: the sweep
   * starts its next probe then, instead of holding the probe's slot through the commit. With the
   * Retry-After the upstream asked for, if any, so that no probe of it starts in the meantime.
   */
  probed?(retryAfterSeconds: number | undefined): void;
}

/**
 * Probe a link and record the verdict. A transient upstream fault (timeout, 5xx, rate limit)
 * degrades the link instead of condemning it; a rejected credential is unhealthy; expiry follows
 * the one expiry policy. In a sweep, the verdict and its history row are committed together with
 * other probes' through the sweep's writer; alone, the verdict first, then its history row.
 */
export async function probeAndRecord(
  deps: ProbeDeps,
  row: IntegrationRow,
  signal?: AbortSignal,
  source: ProbeSource = 'check',
  sweep?: SweepRecording,
): Promise<ProbeOutcome> {
  const kind = row.kind as IntegrationKind;
  const provider = await providerFor(kind);
  let link: StoredLink;
  try {
    link = await unseal(deps, row);
  } catch (error) {
    if (error instanceof AppError && error.code === 'secret_unreadable') {
      return { row: (await getLink(deps.db, row.orgId, kind)) ?? row };
    }
    throw error;
  }
  let result: HealthResult;
  let retryAfterSeconds: number | undefined;
  let upstreamError: string | null = null;
  const started = performance.now();
  try {
    result = await provider.checkHealth(providerContext(deps, signal), link);
  } catch (error) {
    // A probe cut short by a stopping sweep says nothing about the link: record no verdict.
    if (signal?.aborted) throw error;
    const app = toAppError(error);
    if (isProviderError(error) && error.code === 'rate_limited')
      retryAfterSeconds = error.details.retryAfterSeconds ?? 60;
    // The upstream's verdict on the credential condemns the link; a passing fault only degrades it.
    const rejected = isProviderError(error) && !TRANSIENT_CODES.includes(error.code);
    upstreamError = wireCode(app);
    if (!isProviderError(error)) {
      deps.logger.error(
        { error_name: (error as Error).name, credential_key: row.credentialKey },
        'health probe crashed',
      );
    }
    result = {
      status: rejected ? 'unhealthy' : 'degraded',
      error: { code: wireCode(app), message: app.message.slice(0, 2000) },
      expires_at: row.expiresAt,
    };
  }
  const seconds = (performance.now() - started) / 1000;
  sweep?.probed?.(retryAfterSeconds);
  const checked = applyExpiryRule(result, result.expires_at, descriptorFor(kind).label, deps.now());
  const verdict = {
    status: checked.status,
    error: checked.error,
    metadata: result.metadata ? { ...row.metadata, ...result.metadata } : row.metadata,
    expiresAt: result.expires_at,
  };
  const now = isoNow(deps.now());
  let updated: IntegrationRow | undefined;
  if (sweep) {
    updated = await sweep.writer.record({
      credentialKey: row.credentialKey,
      result: verdict,
      now,
      history: { source, latencyMs: seconds * 1000 },
    });
    deps.metrics?.probe(kind, checked.status, seconds, upstreamError);
    if (updated) await announceVerdict(deps, row, updated, source);
  } else {
    updated = await recordHealth(deps.db, row.credentialKey, verdict, now);
    deps.metrics?.probe(kind, checked.status, seconds, upstreamError);
    if (updated) await recordVerdict(deps, row, updated, { source, latencyMs: seconds * 1000 });
  }
  return {
    row: updated ?? row,
    reached: upstreamError === null || !UNREACHABLE_CODES.includes(upstreamError),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** How many links one bulk re-check probes, and how many at once: an admin's click, not a sweep. */
const BULK_LIMIT = 200;
const BULK_CONCURRENCY = 8;

/**
 * Re-check every link of `orgId`, or every link needing attention when null (most urgent first,
 * at most BULK_LIMIT). Each verdict is recorded as a single re-check's would be.
 */
export async function checkHealthMany(
  deps: ProbeDeps,
  orgId: string | null,
): Promise<{ checked: number; failed: number; by_status: Record<string, number>; more: boolean }> {
  const rows = orgId
    ? await listLinks(deps.db, orgId)
    : await linksNeedingAttention(deps.db, { limit: BULK_LIMIT + 1 });
  const more = rows.length > BULK_LIMIT;
  const queue = rows.slice(0, BULK_LIMIT);
  const report = { checked: 0, failed: 0, by_status: {} as Record<string, number>, more };
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      try {
        const { row: after } = await probeAndRecord(deps, row);
        report.checked++;
        report.by_status[after.status] = (report.by_status[after.status] ?? 0) + 1;
      } catch (error) {
        report.failed++;
        deps.logger.warn({ credential_key: row.credentialKey, error_name: (error as Error).name }, 're-check failed');
      }
    }
  };
  await Promise.all(Array.from({ length: BULK_CONCURRENCY }, worker));
  return report;
}
