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
  const delivery = startDelivery({
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
