import { createHmac } from 'node:crypto';
import type { AlertEndpoint } from '@alphaswarm/api';
import {
  claimDueAlerts,
  getAlertEndpoint,
  isoNow,
  type OutboxRow,
  openSecret,
  pruneHealthHistory,
  settleAlert,
} from '@alphaswarm/db';
import type { Env } from '../env';
import type { Runtime } from '../runtime';

/*
 * Alert delivery: outbox rows (written with the change that raised them) are claimed under a
 * lease, POSTed as CloudEvents signed per Standard Webhooks, and retried with exponential backoff
 * within a bounded window. Delivery runs beside the sweep, never inside it: a receiver that hangs
 * costs one bounded request, not a sweep.
 */

/** The endpoint ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL configures: every alert type. */
export const ENV_ENDPOINT_ID = 'env';

export interface DeliveryPolicy {
  /** One request's deadline. */
  timeoutMs: number;
  /** First retry delay; doubled per attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** After this long since the alert was queued, a failing delivery is given up (status `failed`). */
  retryWindowMs: number;
  /** How long a claim holds before another process may take the row over. */
  leaseMs: number;
  batch: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  timeoutMs: 10_000,
  baseBackoffMs: 30_000,
  maxBackoffMs: 3_600_000,
  retryWindowMs: 24 * 3_600_000,
  leaseMs: 60_000,
  batch: 32,
};

export function alertEndpointsFromEnv(env: Env): AlertEndpoint[] {
  return env.ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL ? [{ id: ENV_ENDPOINT_ID, accepts: () => true }] : [];
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`, keyed by the secret's bytes. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

type Target = { type: 'webhook'; url: string; secret: string } | { type: 'slack'; url: string };

async function targetOf(rt: Runtime, endpoint: string): Promise<Target | null> {
  if (endpoint === ENV_ENDPOINT_ID) {
    const { ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL: url, ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: secret } = rt.env;
    return url && secret ? { type: 'webhook', url, secret } : null;
  }
  const row = await getAlertEndpoint(rt.store.db, endpoint);
  if (!row) return null;
  const opened = openSecret(rt.keyring, row.secret) as { url: string; secret?: string };
  if (row.type === 'slack') return { type: 'slack', url: opened.url };
  return opened.secret ? { type: 'webhook', url: opened.url, secret: opened.secret } : null;
}

/** Slack incoming-webhook text for a CloudEvent: what happened, to which link, and the upstream's words. */
export function slackMessage(body: string): string {
  const event = JSON.parse(body) as { type: string; subject?: string; data?: Record<string, any> };
  const what = event.type.replace(/^com\.alphaswarm\./, '').replaceAll('.', ' ');
  const integration = event.data?.integration as { status?: string; error?: { message?: string } | null } | undefined;
  const lines = [`*alphaswarm-admin*: ${what}${event.subject ? ` — \`${event.subject}\`` : ''}`];
  if (event.data?.change) lines.push(`${event.data.change.from} → ${event.data.change.to}`);
  if (event.data?.days_left !== undefined)
    lines.push(`expires in ${event.data.days_left} day(s) (${event.data.expires_at})`);
  if (integration?.error?.message) lines.push(`> ${integration.error.message}`);
  if (event.data?.message) lines.push(String(event.data.message));
  return JSON.stringify({ text: lines.join('\n') });
}

async function post(target: Target, row: OutboxRow, now: Date, timeoutMs: number): Promise<number> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const signed: Record<string, string> =
    target.type === 'webhook'
      ? {
          'content-type': 'application/cloudevents+json',
          'webhook-id': row.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(target.secret, row.id, timestamp, row.body),
        }
      : { 'content-type': 'application/json' };
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { ...signed, 'user-agent': 'alphaswarm-admin-alerts' },
    body: target.type === 'slack' ? slackMessage(row.body) : row.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.body?.cancel();
  return res.status;
}

/** One pass: claim what is due, deliver it concurrently, record each verdict. Returns how many were tried. */
export async function deliverDueAlerts(rt: Runtime, policy: DeliveryPolicy = DEFAULT_DELIVERY): Promise<number> {
  const now = rt.now();
  const rows = await claimDueAlerts(rt.store.db, {
    now: isoNow(now),
    leaseUntil: isoNow(new Date(now.getTime() + policy.leaseMs)),
    limit: policy.batch,
  });
  await Promise.all(
    rows.map(async (row) => {
      let status: number | null = null;
      let error: string | null = null;
      let target: Target | null = null;
      try {
        target = await targetOf(rt, row.endpoint);
      } catch {
        error = 'endpoint_secret_unreadable';
      }
      if (error) {
        // The keyring cannot open the endpoint's secret: retried like any failure until the window ends.
      } else if (!target) error = 'endpoint_not_configured';
      else {
        try {
          status = await post(target, row, now, policy.timeoutMs);
          if (status < 200 || status > 299) error = `http_${status}`;
        } catch (e) {
          error = (e as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
        }
      }
      const at = rt.now();
      if (!error) {
        rt.metrics.webhookDelivery('success');
        await settleAlert(rt.store.db, row.id, {
          status: 'delivered',
          lastStatus: status,
          lastError: null,
          at: isoNow(at),
        });
        return;
      }
      const backoff = Math.min(policy.baseBackoffMs * 2 ** row.attempts, policy.maxBackoffMs);
      const next = at.getTime() + backoff;
      const giveUp = next > Date.parse(row.createdAt) + policy.retryWindowMs;
      rt.metrics.webhookDelivery(giveUp ? 'gave_up' : 'failure');
      rt.logger.warn(
        { alert_id: row.id, endpoint: row.endpoint, error, attempts: row.attempts + 1 },
        'alert delivery failed',
      );
      await settleAlert(rt.store.db, row.id, {
        status: giveUp ? 'failed' : 'pending',
        lastStatus: status,
        lastError: error,
        nextAttemptAt: isoNow(new Date(next)),
        at: isoNow(at),
      });
    }),
  );
  return rows.length;
}

/** Deliver every few seconds (never two passes at once), and prune health history past its retention daily. */
export function startAlertDispatcher(rt: Runtime, opts: { everyMs?: number; policy?: DeliveryPolicy } = {}) {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = deliverDueAlerts(rt, opts.policy)
      .catch((error) => rt.logger.error({ error_name: (error as Error).name }, 'alert delivery pass failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, opts.everyMs ?? 5_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Health history older than ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS goes; the sweep calls this. */
export async function pruneHistory(rt: Runtime): Promise<number> {
  const cutoff = new Date(rt.now().getTime() - rt.env.ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS * 86_400_000);
  return pruneHealthHistory(rt.store.db, isoNow(cutoff));
}
