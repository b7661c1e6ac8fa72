import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { authRoutes } from './auth/idp';
import { AppError, toAppError, toTrpcError, wireCode } from './errors';
import { handleRest } from './rest/routes';
import { appRouter } from './root';
import type { Runtime } from './runtime';
import { readiness } from './runtime/readiness';
import { createContextInner, logCrash, type RequestInfo } from './trpc';

/** Extra plain-HTTP routes mounted by other modules (the embedded IdP's /auth and discovery). */
export type RouteHandler = (
  req: IncomingMessage,
  path: string,
  info: RequestInfo,
) => Promise<{ status: number; body: unknown; headers?: Record<string, string> } | null>;

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** The audited client address: the peer, or the client a trusted proxy names (the nearest hop it added). */
function clientIp(rt: Runtime, req: IncomingMessage): string | null {
  const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? null;
  if (peer && rt.env.ALPHASWARM_ADMIN_TRUSTED_PROXIES.includes(peer)) {
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',');
    const nearest = hops.at(-1)?.trim();
    if (nearest) return nearest.slice(0, 64);
  }
  return peer;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: AppError): void {
  send(res, error.status, { error: { code: wireCode(error), message: error.message } }, error.extra.headers ?? {});
}

export function createRequestListener(rt: Runtime, extraRoutes: RouteHandler[] = []) {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: ({ req, info }) => {
      // One request must not carry many sign-in attempts: each is its own request, so the
      // per-request limits and the hash gate see every one of them. (A batch of one, as the typed
      // client's batch link sends, is a single request.)
      if (info.isBatchCall && info.calls.length > 1 && info.calls.some((c) => c.path.startsWith('auth.'))) {
        throw toTrpcError(
          new AppError(
            'invalid_request',
            'Sign-in procedures (auth.*) cannot be batched; send each as its own request.',
          ),
        );
      }
      return createContextInner(rt, {
        requestId: String(req.headers['x-request-id'] ?? randomUUID()),
        clientIp: clientIp(rt, req),
        authorization: req.headers.authorization,
      });
    },
    responseMeta({ errors }) {
      const headers: Record<string, string> = { ...SECURITY_HEADERS };
      for (const error of errors) Object.assign(headers, toAppError(error).extra.headers ?? {});
      return { headers };
    },
  });

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = String(req.headers['x-request-id'] ?? randomUUID()).slice(0, 128);
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const info: RequestInfo = { requestId, clientIp: clientIp(rt, req), authorization: req.headers.authorization };
    res.on('finish', () => {
      rt.logger.info(
        {
          request_id: requestId,
          method: req.method,
          path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    try {
      if (path.startsWith('/trpc/')) {
        req.headers['x-request-id'] = requestId;
        trpc(req, res);
        return;
      }
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/readyz') return send(res, ...(await readiness(rt)));
      if (req.method === 'GET' && path === '/workload/.well-known/openid-configuration') {
        return send(res, 200, rt.workload.discovery({ claims_supported: ['sub', 'aud', 'iss', 'exp', 'iat', 'jti'] }), {
          'cache-control': 'max-age=300',
        });
      }
      if (req.method === 'GET' && path === '/workload/.well-known/jwks.json') {
        return send(res, 200, await rt.workload.jwks(), { 'cache-control': 'max-age=60' });
      }
      for (const route of extraRoutes) {
        const reply = await route(req, path, info);
        if (reply) return send(res, reply.status, reply.body, reply.headers);
      }
      const rest = await handleRest(rt, req, path, info);
      if (rest) return send(res, rest.status, rest.body);
      return send(res, 404, { error: { code: 'not_found', message: `No route for ${req.method} ${path}.` } });
    } catch (error) {
      const app = toAppError(error);
      if (app.code === 'internal') logCrash({ rt, req: info }, `${req.method} ${path}`, error);
      return sendError(res, app);
    }
  };
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(
  rt: Runtime,
  opts: { host?: string; port?: number; extraRoutes?: RouteHandler[] } = {},
): Promise<RunningServer> {
  // The embedded IdP's /auth/* and /.well-known/* routes, whenever it is enabled.
  const routes = [...(rt.adminIssuer ? [authRoutes(rt)] : []), ...(opts.extraRoutes ?? [])];
  const listener = createRequestListener(rt, routes);
  const server = createServer((req, res) => void listener(req, res));
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? rt.env.ALPHASWARM_ADMIN_PORT, opts.host ?? rt.env.ALPHASWARM_ADMIN_HOST, () =>
      resolve(),
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeIdleConnections();
        server.close(() => resolve());
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
