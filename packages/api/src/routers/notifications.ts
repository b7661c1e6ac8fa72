import { randomBytes } from 'node:crypto';
import { boundedText } from '@alphaswarm/contracts';
import {
  type AlertEndpointRow,
  deleteAlertEndpoint,
  enqueueAlert,
  getAlertDelivery,
  getAlertEndpoint,
  insertAlertEndpoint,
  isoNow,
  listAlertDeliveries,
  listAlertEndpoints,
  redeliverAlert,
  sealSecret,
} from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors';
import { cloudEvent, newMessageId } from '../services/awareness';
import { adminProcedure, stepUpProcedure } from '../trpc';

const EndpointId = z.string().regex(/^(ep_[0-9a-f]{16}|env)$/, 'an endpoint id: ep_ and 16 hex digits, or env');
const DeliveryId = z.string().regex(/^msg_[0-9a-f]{32}$/, 'a delivery id: msg_ and 32 hex digits');
const EventType = z
  .string()
  .regex(/^com\.alphaswarm\.[a-z_.]{1,80}$/, 'an alert type such as com.alphaswarm.integration.unhealthy');

function publicEndpoint(row: AlertEndpointRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type as 'webhook' | 'slack',
    host: row.host,
    event_types: row.eventTypes,
    created_at: row.createdAt,
  };
}

async function endpointOrNotFound(db: Parameters<typeof getAlertEndpoint>[0], id: string) {
  const row = await getAlertEndpoint(db, id);
  if (!row) throw new AppError('not_found', `No notification endpoint ${id}.`);
  return row;
}

export const notificationsRouter = {
  /** A new endpoint. A webhook's signing secret is in this answer only: store it in the receiver now. */
  create: stepUpProcedure
    .input(
      z.object({
        name: boundedText(80),
        type: z.enum(['webhook', 'slack']).default('webhook'),
        url: z.url({ protocol: /^https?$/ }).max(2048),
        /** Alert types to send; empty: every type. */
        event_types: z.array(EventType).max(32).default([]),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const id = `ep_${randomBytes(8).toString('hex')}`;
      const secret = input.type === 'webhook' ? `whsec_${randomBytes(24).toString('base64')}` : null;
      const row: AlertEndpointRow = {
        id,
        name: input.name,
        type: input.type,
        secret: sealSecret(ctx.keyring, { url: input.url, ...(secret ? { secret } : {}) }),
        host: new URL(input.url).host,
        eventTypes: input.event_types,
        createdAt: isoNow(ctx.now()),
      };
      await insertAlertEndpoint(ctx.db, row);
      return { endpoint: publicEndpoint(row), secret, audit_run_id: ctx.runId };
    }),

  list: adminProcedure.query(async ({ ctx }) => ({
    endpoints: (await listAlertEndpoints(ctx.db)).map(publicEndpoint),
    /** Whether ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL is set (its deliveries are under endpoint `env`). */
    env_endpoint: (ctx.config.alertEndpoints ?? []).some((e) => e.id === 'env'),
  })),

  /** Queue a `com.alphaswarm.test` event for this endpoint only; its delivery shows in `deliveries`. */
  test: stepUpProcedure.input(z.object({ id: EndpointId })).mutation(async ({ ctx, input }) => {
    if (input.id !== 'env') await endpointOrNotFound(ctx.db, input.id);
    const id = newMessageId();
    const at = isoNow(ctx.now());
    const event = cloudEvent(ctx.config.publicUrl, id, at, {
      type: 'com.alphaswarm.test',
      subject: null,
      data: { message: 'A test alert from alphaswarm-admin.' },
    });
    await enqueueAlert(ctx.db, {
      id,
      endpoint: input.id,
      type: event.type,
      subject: null,
      body: JSON.stringify(event),
      createdAt: at,
    });
    return { delivery_id: id, audit_run_id: ctx.runId };
  }),

  delete: stepUpProcedure.input(z.object({ id: EndpointId })).mutation(async ({ ctx, input }) => {
    if (!(await deleteAlertEndpoint(ctx.db, input.id)))
      throw new AppError('not_found', `No notification endpoint ${input.id}.`);
    return { deleted: true as const, id: input.id, audit_run_id: ctx.runId };
  }),

  /** The delivery log, newest first. */
  deliveries: adminProcedure
    .input(z.object({ endpoint_id: EndpointId.optional(), limit: z.number().int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }) => ({
      deliveries: (await listAlertDeliveries(ctx.db, { endpoint: input.endpoint_id, limit: input.limit })).map((r) => ({
        id: r.id,
        endpoint_id: r.endpoint,
        type: r.type,
        subject: r.subject,
        status: r.status as 'pending' | 'delivered' | 'failed',
        attempts: r.attempts,
        last_status: r.lastStatus,
        last_error: r.lastError,
        created_at: r.createdAt,
        next_attempt_at: r.status === 'pending' ? r.nextAttemptAt : null,
        delivered_at: r.deliveredAt,
      })),
    })),

  /** Send a delivery again, same id and body (receivers deduplicate on webhook-id). */
  redeliver: stepUpProcedure.input(z.object({ id: DeliveryId })).mutation(async ({ ctx, input }) => {
    if (!(await getAlertDelivery(ctx.db, input.id))) throw new AppError('not_found', `No delivery ${input.id}.`);
    await redeliverAlert(ctx.db, input.id, isoNow(ctx.now()));
    return { redelivering: true as const, id: input.id, audit_run_id: ctx.runId };
  }),
} satisfies TRPCRouterRecord;
