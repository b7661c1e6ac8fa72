import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AppError,
  appRouter,
  createContextInner,
  logCrash,
  type RequestInfo,
  toAppError,
  trpcErrorBody,
  wireCode,
} from '@alphaswarm/api';
import { TRPC_MAX_BATCH_SIZE } from '@alphaswarm/contracts';
import { TRPCError } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import {
  getErrorShape,
  getHTTPStatusCode,
  getRequestInfo,
  getTRPCErrorFromUnknown,
  transformTRPCResponse,
} from '@trpc/server/unstable-core-do-not-import';
import { authRoutes } from './auth/idp';
import { assertJsonContentType, BODY_LIMITS, bodyFullyRead, limitedBody } from './http-body';
import { routeLabel, serveMetrics } from './metrics';
import { openApiDocument } from './rest/openapi';
import { handleRest } from './rest/routes';
import type { Runtime } from './runtime';
import { readiness } from './runtime/readiness';

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

const TRPC_PREFIX = '/trpc/';

/**
 * A response to `req`: a body the request still has unread (an early 401, 405 or 413) would be
 * read as the next request, so the connection closes after such a response.
 */
function writeHead(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, bodyFullyRead(req) ? headers : { ...headers, connection: 'close' });
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  writeHead(req, res, status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

function sendError(req: IncomingMessage, res: ServerResponse, error: AppError): void {
  send(req, res, error.status, { error: { code: wireCode(error), message: error.message } }, error.extra.headers ?? {});
}

/** Our own id when the caller's is not a plain token (it is echoed in a header and every log line). */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:@-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * Path and query of the request target, without resolving it against any base: `//host/x` or
 * an absolute-form target must not be read as another host's path.
 */
function splitTarget(target: string): { path: string; query: string } {
  if (!target.startsWith('/')) throw new AppError('invalid_request', 'The request target must be a path.');
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** Percent-encoding must decode to UTF-8 (URLSearchParams would patch bad bytes over with U+FFFD). */
function assertDecodes(part: string, what: string): void {
  try {
    decodeURIComponent(part);
  } catch {
    throw new AppError('invalid_request', `${what} is not valid percent-encoded UTF-8.`);
  }
}

/** The body limit of a tRPC request, from the procedures its path names. */
function trpcBodyLimit(procedures: string[]): number {
  if (procedures.includes('store.import')) return BODY_LIMITS.storeImport;
  if (procedures.every((p) => p.startsWith('auth.'))) return BODY_LIMITS.auth;
  return BODY_LIMITS.api;
}

const TRPC_METHODS = { allow: 'GET, POST' };

/** Headers the errors of a tRPC answer carry (Retry-After of a rate limit, Allow of a wrong method). */
function errorHeaders(errors: unknown[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const error of errors) {
    const app = toAppError(error);
    Object.assign(headers, app.extra.headers ?? {}, app.code === 'method_not_allowed' ? TRPC_METHODS : {});
  }
  return headers;
}

export function createRequestListener(rt: Runtime, extraRoutes: RouteHandler[] = []) {
  /**
   * tRPC from a fetch Request, fed a body we control: nothing is read until a procedure
   * needs its input (so a refused caller's body is never parsed), the count stops at the limit,
   * and the bytes must be UTF-8. Wrong methods and media types are refused before tRPC runs.
   */
  async function serveTrpc(req: IncomingMessage, res: ServerResponse, path: string, info: RequestInfo) {
    const procedures = path.slice(TRPC_PREFIX.length).split(',');
    const method = req.method ?? 'GET';
    // One request must not carry many sign-in attempts: each is its own request, so the
    // per-request limits and the hash gate see every one of them. (A batch of one, as the typed
    // client's batch link sends, is a single request.)
    if (procedures.length > 1 && procedures.some((p) => p.startsWith('auth.'))) {
      const app = new AppError(
        'invalid_request',
        'Sign-in procedures (auth.*) cannot be batched; send each as its own request.',
      );
      send(req, res, app.status, trpcErrorBody(app, procedures.join(',')), app.extra.headers ?? {});
      return;
    }
    let request: Request;
    let bodyBytes: number | null | undefined;
    try {
      if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
        throw new AppError('method_not_allowed', `${method} is not accepted: tRPC queries use GET, mutations POST.`, {
          headers: TRPC_METHODS,
        });
      }
      assertDecodes(path, 'The procedure path');
      const { query } = splitTarget(req.url ?? '/');
      for (const part of query.split('&')) assertDecodes(part.replaceAll('+', ' '), 'The query string');
      if (method === 'GET') {
        const answer = await serveQuery(req, path, query, info);
        if (answer) {
          if (res.headersSent || res.destroyed) return;
          writeHead(req, res, answer.status, {
            ...SECURITY_HEADERS,
            ...answer.headers,
            'content-length': String(Buffer.byteLength(answer.body)),
          });
          res.end(answer.body);
          return;
        }
      }
      const headers = new Headers();
      for (const name of ['content-type', 'accept', 'trpc-accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers.set(name, value);
      }
      let body: ReadableStream<Uint8Array> | undefined;
      if (method === 'POST') {
        assertJsonContentType(req);
        // Bodiless POSTs (a mutation without input) still reach tRPC's JSON handling.
        headers.set('content-type', 'application/json');
        body = limitedBody(req, trpcBodyLimit(procedures));
        const declared = req.headers['content-length'];
        bodyBytes = declared === undefined ? null : Number(declared);
      }
      const aborted = new AbortController();
      res.once('close', () => {
        if (!res.writableEnded) aborted.abort();
      });
      request = new Request(`http://localhost${req.url}`, {
        method,
        headers,
        signal: aborted.signal,
        ...(body ? { body, duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      const app = toAppError(error);
      send(req, res, app.status, trpcErrorBody(app, procedures.join(',')), app.extra.headers ?? {});
      return;
    }
    // resolveResponse itself, not the fetch adapter around it: the adapter parses the URL again and
    // copies every header through two Headers objects on each call.
    const response = await resolveResponse({
      req: request,
      path: path.slice(TRPC_PREFIX.length),
      router: appRouter,
      error: null,
      maxBatchSize: TRPC_MAX_BATCH_SIZE,
      createContext: async () => createContextInner(rt, { ...info, ...(bodyBytes !== undefined ? { bodyBytes } : {}) }),
      responseMeta({ errors }) {
        return errors.length === 0 ? {} : { headers: errorHeaders(errors) };
      },
    });
    const payload = Buffer.from(await response.arrayBuffer());
    if (res.headersSent || res.destroyed) return;
    writeHead(req, res, response.status, {
      ...SECURITY_HEADERS,
      ...Object.fromEntries(response.headers),
      'content-length': String(payload.length),
    });
    res.end(payload);
  }

  /**
   * A single, unbatched GET of a query: the same steps as resolveResponse (tRPC's own request
   * parsing, context, procedure, error shape, status and transformer), without the fetch Request,
   * Response, body stream and three AbortSignals it builds around them, which cost more per request
   * than the procedure itself. Null when the request is anything else (a batch, a stream, a missing
   * procedure, a mutation): resolveResponse answers those.
   */
  async function serveQuery(req: IncomingMessage, path: string, query: string, info: RequestInfo) {
    const searchParams = new URLSearchParams(query);
    if (searchParams.has('batch') || 'trpc-accept' in req.headers || 'content-type' in req.headers) return null;
    const accept = req.headers.accept;
    if (accept?.includes('jsonl')) return null;
    const config = appRouter._def._config;
    // The json handler reads only the method and the content type of a GET.
    const fetchLike = { method: 'GET', headers: new Headers() } as unknown as Request;
    let request: Awaited<ReturnType<typeof getRequestInfo>>;
    try {
      request = await getRequestInfo({
        req: fetchLike,
        path: path.slice(TRPC_PREFIX.length),
        router: appRouter,
        searchParams,
        headers: fetchLike.headers,
        url: null,
        maxBatchSize: TRPC_MAX_BATCH_SIZE,
      });
    } catch {
      // Its error is resolveResponse's to shape.
      return null;
    }
    const call = request.calls[0];
    const procedure = call?.procedure;
    if (request.isBatchCall || !call || !procedure || procedure._def.type !== 'query') return null;
    let ctx: Awaited<ReturnType<typeof createContextInner>> | undefined;
    let error: TRPCError | null = null;
    let data: unknown;
    try {
      ctx = await createContextInner(rt, info);
      // No query reads tRPC's abort signal (nothing long-running answers a GET), so none is made.
      data = await procedure({
        path: call.path,
        getRawInput: call.getRawInput,
        ctx,
        type: 'query',
        signal: undefined,
        batchIndex: 0,
      });
    } catch (cause) {
      error = getTRPCErrorFromUnknown(cause);
    }
    const untransformed = error
      ? { error: getErrorShape({ config, ctx, error, input: call.result(), path: call.path, type: 'query' }) }
      : { result: { data } };
    const headers = {
      vary: 'trpc-accept, accept',
      'content-type': 'application/json',
      ...(error ? errorHeaders([error]) : {}),
    };
    return {
      status: getHTTPStatusCode([untransformed], error ? [error] : []),
      headers,
      body: JSON.stringify(transformTRPCResponse(config, untransformed)),
    };
  }

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    let path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const info: RequestInfo = { requestId, clientIp: clientIp(rt, req), authorization: req.headers.authorization };
    res.on('finish', () => {
      rt.metrics.httpRequest(routeLabel(path), res.statusCode);
      rt.logger.info(
        {
          request_id: requestId,
          method: req.method,
          path: path.slice(0, 256),
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    try {
      path = splitTarget(req.url ?? '/').path;
      if (path.startsWith(TRPC_PREFIX)) return await serveTrpc(req, res, path, info);
      // Liveness checks nothing outside the process: a database outage must not get replicas restarted.
      if (req.method === 'GET' && (path === '/livez' || path === '/healthz'))
        return send(req, res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/readyz') return send(req, res, ...(await readiness(rt)));
      if (req.method === 'GET' && path === '/metrics') {
        const scrape = await serveMetrics(rt.metrics, rt.env.ALPHASWARM_ADMIN_METRICS_TOKEN, req);
        writeHead(req, res, 200, { ...SECURITY_HEADERS, 'content-type': scrape.contentType });
        res.end(scrape.body);
        return;
      }
      if (req.method === 'GET' && path === '/workload/.well-known/openid-configuration') {
        return send(
          req,
          res,
          200,
          rt.workload.discovery({ claims_supported: ['sub', 'aud', 'iss', 'exp', 'iat', 'jti'] }),
          {
            'cache-control': 'max-age=300',
          },
        );
      }
      if (req.method === 'GET' && path === '/openapi.json') {
        return send(req, res, 200, openApiDocument(rt.env.publicUrl), { 'cache-control': 'max-age=300' });
      }
      if (req.method === 'GET' && path === '/workload/.well-known/jwks.json') {
        return send(req, res, 200, await rt.workload.jwks(), { 'cache-control': 'max-age=60' });
      }
      for (const route of extraRoutes) {
        const reply = await route(req, path, info);
        if (reply) return send(req, res, reply.status, reply.body, reply.headers);
      }
      const rest = await handleRest(rt, req, path, info);
      if (rest) return send(req, res, rest.status, rest.body);
      return send(req, res, 404, {
        error: { code: 'not_found', message: `No route for ${req.method} ${path.slice(0, 200)}.` },
      });
    } catch (error) {
      const app = toAppError(error);
      // A procedure's own failure (REST calls them) was logged where it happened.
      if (app.code === 'internal' && !(error instanceof TRPCError))
        logCrash({ logger: rt.logger, req: info }, `${req.method} ${path.slice(0, 256)}`, error);
      return sendError(req, res, app);
    }
  };
}

export interface RunningServer {
  url: string;
  server: Server;
  /**
   * Stop accepting connections, let requests in flight finish for up to `graceMs` (default 2 s),
   * then cut what is left. Resolves with how many requests were still running when cut.
   */
  close(graceMs?: number): Promise<{ cut: number }>;
}

export async function listen(
  rt: Runtime,
  opts: { host?: string; port?: number; extraRoutes?: RouteHandler[] } = {},
): Promise<RunningServer> {
  // The embedded IdP's /auth/* and /.well-known/* routes, whenever it is enabled.
  const routes = [...(rt.adminIssuer ? [authRoutes(rt)] : []), ...(opts.extraRoutes ?? [])];
  const listener = createRequestListener(rt, routes);
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;
  const server = createServer((req, res) => {
    inFlight++;
    // A keep-alive client is told to reconnect (to another replica) once this one drains.
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    void listener(req, res);
  });
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
  let closing: Promise<{ cut: number }> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close(graceMs = 2_000) {
      closing ??= new Promise((resolve) => {
        draining = true;
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        const idle = new Promise<void>((r) => {
          drained = r;
          if (inFlight === 0) r();
        });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => {
          timer = setTimeout(() => r('late'), graceMs);
        });
        void Promise.race([idle, late]).then(async () => {
          clearTimeout(timer);
          const cut = inFlight;
          server.closeAllConnections();
          await closed;
          resolve({ cut });
        });
      });
      return closing;
    },
  };
}
