import { dirname, join } from 'node:path';
import {
  ackOutbox,
  claimOutbox,
  type Database,
  failOutbox,
  outboxLag,
  processOwner,
  releaseOutbox,
} from '@alphaswarm/db';
import type { Runtime } from '../runtime';
import { type Clock, type Delivery, type DeliveryOptions, type Outbox, startDelivery, systemClock } from './delivery';
import { startCheckpointer, startRetention } from './service';
import type { Sink } from './sinks';

/** The outbox in the database: the audit table as the log, one leased cursor per sink. */
export function databaseOutbox(db: Database): Outbox {
  return {
    claim: (sink, owner, now, leaseMs, limit) => claimOutbox(db, sink, owner, now, leaseMs, limit),
    ack: (sink, owner, throughSeq, now) => ackOutbox(db, sink, owner, throughSeq, now),
    fail: (sink, owner, retryAt, error) => failOutbox(db, sink, owner, retryAt, error),
    release: (sink, owner) => releaseOutbox(db, sink, owner),
    lag: (sink, now) => outboxLag(db, sink, now),
  };
}

/** A sink is degraded (not failed) once its oldest undelivered record is older than this. */
export const SINK_LAG_DEGRADED_SECONDS = 60;

/**
 * Start streaming the audit log to the runtime's sinks in the background; the runtime's readiness
 * then reports their lag. Nothing here is on a request's path.
 */
export function startAuditStreaming(
  rt: Runtime,
  opts: { sinks?: readonly Sink[]; clock?: Clock; owner?: string } & Partial<
    Pick<DeliveryOptions, 'batchSize' | 'leaseMs' | 'sendTimeoutMs' | 'pollMs' | 'backoff'>
  > = {},
): Delivery | null {
  const sinks = opts.sinks ?? rt.auditSinks;
  if (sinks.length === 0) return null;
  const maxMs = rt.env.ALPHASWARM_ADMIN_AUDIT_SINK_RETRY_MAX * 1000;
  const delivery = startDelivery({
    backoff: { baseMs: Math.min(1_000, maxMs), maxMs },
    ...opts,
    outbox: databaseOutbox(rt.db),
    sinks,
    owner: opts.owner ?? processOwner(),
    clock: opts.clock ?? systemClock,
    log: rt.logger,
  });
  rt.auditStream = delivery;
  return delivery;
}

/**
 * Everything the server runs in the background for the audit log: streaming to the configured
 * sinks, signed checkpoints (ALPHASWARM_ADMIN_AUDIT_CHECKPOINT_EVERY) and retention
 * (ALPHASWARM_ADMIN_AUDIT_RETENTION_DAYS).
 */
export function startAuditServices(rt: Runtime, clock: Clock = systemClock): { stop(): Promise<void> } {
  const env = rt.env;
  const stream = startAuditStreaming(rt, { clock });
  const deps = { ...rt.auditHousekeeping(), clock, log: rt.logger };
  const checkpointer = startCheckpointer({ ...deps, every: env.ALPHASWARM_ADMIN_AUDIT_CHECKPOINT_EVERY });
  const retention = env.ALPHASWARM_ADMIN_AUDIT_RETENTION_DAYS
    ? startRetention({
        ...deps,
        retention: {
          days: env.ALPHASWARM_ADMIN_AUDIT_RETENTION_DAYS,
          dir: env.ALPHASWARM_ADMIN_AUDIT_ARCHIVE_DIR ?? join(dirname(env.dbPath), 'audit-archive'),
          sinks: rt.auditSinks.map((s) => s.name),
        },
      })
    : null;
  return {
    async stop() {
      await Promise.all([stream?.stop(), checkpointer.stop(), retention?.stop()]);
    },
  };
}
