import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type ApiMetrics, AppError, appRouter } from '@alphaswarm/api';
import { linkStats, type Store } from '@alphaswarm/db';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/*
 * Prometheus metrics, every name `alphaswarm_`. Label values come from closed sets (kind ids,
 * statuses, error codes, route templates, results): never an org, a namespace, a token or a path
 * a caller typed, so nothing secret and no unbounded cardinality can reach a scrape.
 */

const DAY_S = 86_400;

export interface Metrics extends ApiMetrics {
  registry: Registry;
  httpRequest(route: string, status: number): void;
  /** A sweep that went through every link. */
  sweepFinished(seconds: number, at: Date): void;
  webhookDelivery(result: 'success' | 'failure' | 'gave_up'): void;
}

export function createMetrics(deps: { db: Store['db']; now: () => Date }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'alphaswarm_' });

  new Gauge({
    name: 'alphaswarm_links',
    help: 'Links by kind and status, read from the database at each scrape.',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await linkStats(deps.db)).byKindStatus)
        this.set({ kind: row.kind, status: row.status }, row.n);
    },
  });
  new Gauge({
    name: 'alphaswarm_link_nearest_expiry_days',
    help: 'Days until the nearest recorded credential expiry per kind (negative: already expired).',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = deps.now().getTime();
      for (const row of (await linkStats(deps.db)).nearestExpiry) {
        const at = Date.parse(row.expiresAt);
        if (Number.isFinite(at)) this.set({ kind: row.kind }, Math.round(((at - now) / 1000 / DAY_S) * 100) / 100);
      }
    },
  });
  const probes = new Counter({
    name: 'alphaswarm_probes_total',
    help: 'Health probes by kind and the status they recorded.',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const probeSeconds = new Histogram({
    name: 'alphaswarm_probe_duration_seconds',
    help: 'Health probe latency by kind (the upstream round trips).',
    labelNames: ['kind'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'alphaswarm_upstream_errors_total',
    help: 'Failed health probes by kind and error code.',
    labelNames: ['kind', 'code'],
    registers: [registry],
  });
  const sweepSeconds = new Gauge({
    name: 'alphaswarm_sweep_duration_seconds',
    help: 'Wall time of the last finished health sweep.',
    registers: [registry],
  });
  const sweepLastSuccess = new Gauge({
    name: 'alphaswarm_sweep_last_success_timestamp_seconds',
    help: 'Unix time the last health sweep went through every link (0: none yet).',
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'alphaswarm_webhook_deliveries_total',
    help: 'Alert webhook delivery attempts by result.',
    labelNames: ['result'],
    registers: [registry],
  });
  const auditSeconds = new Histogram({
    name: 'alphaswarm_audit_append_duration_seconds',
    help: 'Latency of one committed audit-log append.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const http = new Counter({
    name: 'alphaswarm_http_requests_total',
    help: 'HTTP requests by route template and status.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  sweepLastSuccess.set(0);

  return {
    registry,
    probe(kind, result, seconds, upstreamError) {
      probes.inc({ kind, result });
      probeSeconds.observe({ kind }, seconds);
      if (upstreamError) upstreamErrors.inc({ kind, code: upstreamError });
    },
    auditAppend: (seconds) => auditSeconds.observe(seconds),
    httpRequest: (route, status) => http.inc({ route, status: String(status) }),
    sweepFinished(seconds, at) {
      sweepSeconds.set(seconds);
      sweepLastSuccess.set(Math.floor(at.getTime() / 1000));
    },
    webhookDelivery: (result) => webhooks.inc({ result }),
  };
}

const FIXED_ROUTES = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/workload/.well-known/openid-configuration',
  '/workload/.well-known/jwks.json',
  '/.well-known/openid-configuration',
  '/.well-known/jwks.json',
  '/auth/login',
  '/auth/step-up',
  '/auth/logout',
]);
const PROCEDURES = new Set(Object.keys(appRouter._def.procedures));
const REST_ROUTE = /^\/admin\/accounts\/[^/]+\/integrations(\/[^/]+)?(\/health)?\/?$/;

/** The route template a request path is counted under: a closed set, whatever the caller sent. */
export function routeLabel(path: string): string {
  if (FIXED_ROUTES.has(path)) return path;
  if (path.startsWith('/trpc/')) {
    const names = path.slice('/trpc/'.length).split(',');
    if (names.length > 1) return '/trpc/(batch)';
    return PROCEDURES.has(names[0] ?? '') ? path : '/trpc/(unknown)';
  }
  const rest = REST_ROUTE.exec(path);
  if (rest) return `/admin/accounts/:org_id/integrations${rest[1] ? '/:kind' : ''}${rest[2] ?? ''}`;
  return '(unmatched)';
}

/**
 * `GET /metrics`: open unless ALPHASWARM_ADMIN_METRICS_TOKEN is set, then only with that bearer
 * token (compared in constant time). A network restriction belongs to the listener or proxy.
 */
export async function serveMetrics(
  metrics: Metrics,
  token: string | undefined,
  req: IncomingMessage,
): Promise<{ body: string; contentType: string }> {
  if (token) {
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new AppError(
        'invalid_token',
        'GET /metrics needs the bearer token set in ALPHASWARM_ADMIN_METRICS_TOKEN.',
        {
          headers: { 'www-authenticate': 'Bearer realm="metrics"' },
        },
      );
    }
  }
  return { body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
}
