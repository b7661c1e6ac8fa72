import { randomBytes } from 'node:crypto';
import type { IntegrationKind } from '@alphaswarm/contracts';
import {
  appendHealthHistory,
  enqueueAlert,
  type IntegrationRow,
  isoNow,
  listAlertEndpoints,
  markAlertOnce,
  toPublic,
} from '@alphaswarm/db';
import { auditEvent } from '../audit/writer';
import type { ApiConfig, ApiDeps } from '../deps';

/*
 * Operator awareness: every probe leaves a history row, and what an operator must hear about
 * (a link changing state, an expiry drawing near, a key rotated, the audit chain broken) becomes
 * an alert: an audit event, and a CloudEvent in the outbox of every configured endpoint.
 */

export type ProbeSource = 'connect' | 'check' | 'sweep' | 'rotate';

/** Days before an upstream expiry at which the countdown announces it, each once per expiry. */
export const EXPIRY_THRESHOLDS = [30, 14, 7, 1] as const;

const DAY_MS = 86_400_000;

/** What raising an alert needs: the API's deps, or a CLI command's (its database, clock and alert endpoints). */
export type AwarenessDeps = Pick<ApiDeps, 'db' | 'now' | 'logger' | 'auditKeys'> & {
  config: Pick<ApiConfig, 'publicUrl' | 'alertEndpoints'>;
} & Partial<Pick<ApiDeps, 'denials' | 'metrics'>>;

export interface Alert {
  /** CloudEvents `type`, e.g. `com.alphaswarm.integration.unhealthy`. */
  type: string;
  /** CloudEvents `subject`: the credential key, when the alert is about one link. */
  subject: string | null;
  orgId?: string | null;
  kind?: string | null;
  /** Public facts only: never a secret. */
  data: Record<string, unknown>;
}

/** A Standard Webhooks message id: also the CloudEvent id, so a receiver deduplicates on either. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

/** A CloudEvents 1.0 structured-mode JSON event. */
export function cloudEvent(
  publicUrl: string,
  id: string,
  time: string,
  alert: Pick<Alert, 'type' | 'subject' | 'data'>,
) {
  return {
    specversion: '1.0',
    id,
    source: `${publicUrl}/`,
    type: alert.type,
    ...(alert.subject ? { subject: alert.subject } : {}),
    time,
    datacontenttype: 'application/json',
    data: alert.data,
  };
}

/** The alert for an audit chain that does not verify: where it diverges and how, never a row's content. */
export function verifyFailedAlert(
  source: 'audit.verify' | 'audit-verify',
  checked: number,
  divergence: { kind: string; seq: number; missing?: { fromSeq: number; toSeq: number }; message: string } | undefined,
): Alert {
  return {
    type: 'com.alphaswarm.audit.verify_failed',
    subject: null,
    data: {
      source,
      checked,
      divergence: divergence
        ? {
            kind: divergence.kind,
            seq: divergence.seq,
            ...(divergence.missing
              ? { missing: { from_seq: divergence.missing.fromSeq, to_seq: divergence.missing.toSeq } }
              : {}),
            message: divergence.message,
          }
        : null,
    },
  };
}

/** Audit it, then queue it for every configured endpoint (in the database: it survives a restart). */
export async function emitAlert(deps: AwarenessDeps, alert: Alert): Promise<void> {
  const at = isoNow(deps.now());
  await auditEvent(
    deps,
    { actor: 'system', clientIp: null },
    'alert.fired',
    { phase: 'event', outcome: 'success', detail: { type: alert.type, ...alert.data } },
    {
      throttled: false,
      target: { orgId: alert.orgId ?? null, kind: alert.kind ?? null, credentialKey: alert.subject },
    },
  );
  let managed: { id: string; accepts(type: string): boolean }[] = [];
  try {
    managed = (await listAlertEndpoints(deps.db)).map((e) => ({
      id: e.id,
      accepts: (type: string) => e.eventTypes.length === 0 || e.eventTypes.includes(type),
    }));
  } catch (error) {
    deps.logger.error({ err: { message: (error as Error).message } }, 'alert endpoints could not be read');
  }
  for (const endpoint of [...(deps.config.alertEndpoints ?? []), ...managed]) {
    if (!endpoint.accepts(alert.type)) continue;
    const id = newMessageId();
    const event = cloudEvent(deps.config.publicUrl, id, at, alert);
    try {
      await enqueueAlert(deps.db, {
        id,
        endpoint: endpoint.id,
        type: alert.type,
        subject: alert.subject,
        body: JSON.stringify(event),
        createdAt: at,
      });
    } catch (error) {
      deps.logger.error({ err: { message: (error as Error).message }, type: alert.type }, 'alert could not be queued');
    }
  }
}

/**
 * After a probe: its history row, a state-change alert when the status moved, and the expiry
 * countdown. Never throws: awareness must not turn a recorded verdict into a failed call.
 */
export async function recordVerdict(
  deps: AwarenessDeps,
  before: IntegrationRow | null,
  after: IntegrationRow,
  probe: { source: ProbeSource; latencyMs: number },
): Promise<void> {
  const at = isoNow(deps.now());
  try {
    await appendHealthHistory(deps.db, {
      credentialKey: after.credentialKey,
      orgId: after.orgId,
      kind: after.kind,
      at,
      source: probe.source,
      result: after.status,
      latencyMs: Math.max(0, Math.round(probe.latencyMs)),
      errorCode: after.error?.code ?? null,
      errorMessage: after.error?.message.slice(0, 2000) ?? null,
      expiresAt: after.expiresAt,
    });
  } catch (error) {
    logUnrecorded(deps, after, error);
    return;
  }
  await announceVerdict(deps, before, after, probe.source);
}

/**
 * What a recorded verdict (its history row already written) must tell an operator: a state-change
 * alert when the status moved, and the expiry countdown. Never throws.
 */
export async function announceVerdict(
  deps: AwarenessDeps,
  before: IntegrationRow | null,
  after: IntegrationRow,
  source: ProbeSource,
): Promise<void> {
  try {
    const integration = toPublic(after);
    const target = { orgId: after.orgId, kind: after.kind as IntegrationKind };
    if (before && before.status !== after.status) {
      await emitAlert(deps, {
        type: `com.alphaswarm.integration.${after.status}`,
        subject: after.credentialKey,
        ...target,
        data: {
          integration,
          expires_at: after.expiresAt,
          change: { from: before.status, to: after.status, source },
        },
      });
    }
    await expiryCountdown(deps, after, integration);
  } catch (error) {
    logUnrecorded(deps, after, error);
  }
}

function logUnrecorded(deps: AwarenessDeps, after: IntegrationRow, error: unknown): void {
  deps.logger.error(
    { err: { message: (error as Error).message }, credential_key: after.credentialKey },
    'health history or alert could not be recorded',
  );
}

async function expiryCountdown(
  deps: AwarenessDeps,
  row: IntegrationRow,
  integration: ReturnType<typeof toPublic>,
): Promise<void> {
  if (!row.expiresAt) return;
  const left = Date.parse(row.expiresAt) - deps.now().getTime();
  if (!Number.isFinite(left) || left <= 0) return;
  const crossed = EXPIRY_THRESHOLDS.filter((t) => left <= t * DAY_MS);
  const tightest = crossed.at(-1);
  if (tightest === undefined) return;
  const at = isoNow(deps.now());
  // A link first seen 5 days out announces 7 days, and 30 and 14 are marked passed, not announced late.
  let fresh = false;
  for (const threshold of crossed) {
    const marked = await markAlertOnce(deps.db, {
      credentialKey: row.credentialKey,
      expiresAt: row.expiresAt,
      threshold,
      at,
    });
    if (threshold === tightest) fresh = marked;
  }
  if (!fresh) return;
  await emitAlert(deps, {
    type: 'com.alphaswarm.integration.expiring',
    subject: row.credentialKey,
    orgId: row.orgId,
    kind: row.kind,
    data: {
      integration,
      expires_at: row.expiresAt,
      threshold_days: tightest,
      days_left: Math.floor(left / DAY_MS),
    },
  });
}
