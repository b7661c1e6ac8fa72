import type { Readable } from 'node:stream';
import { rootCertificates as nodeRoots } from 'node:tls';
import { ProviderError } from '@alphaswarm/contracts';
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import type { z } from 'zod';

export interface HttpClientOptions {
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Extra PEM CA bundle to trust (added to Node's defaults). */
  ca?: string;
  userAgent?: string;
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpRequest {
  method?: HttpMethod;
  headers?: Record<string, string>;
  /** Raw body; or `json` to send JSON. */
  body?: string | Uint8Array;
  json?: unknown;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The service named in error messages ("AWS STS"), when more precise than the upstream. */
  service?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  url: string;
}

const DEFAULTS = { connectTimeoutMs: 5_000, totalTimeoutMs: 15_000, maxBodyBytes: 1024 * 1024 };

/**
 * The one way providers speak HTTP, their own calls and the cloud SDKs' alike (each SDK's
 * transport is an adapter over `request`): undici with connect and total timeouts, a bounded
 * response size, and no redirects followed (a 3xx comes back as-is, so a token is never
 * replayed to another host). Network failures become ProviderErrors naming the upstream.
 */
export class HttpClient {
  readonly dispatcher: Dispatcher;
  readonly options: Required<Omit<HttpClientOptions, 'ca'>> & { ca?: string };

  constructor(options: HttpClientOptions = {}) {
    this.options = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      totalTimeoutMs: options.totalTimeoutMs ?? DEFAULTS.totalTimeoutMs,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      userAgent: options.userAgent ?? 'alphaswarm-admin/1',
      ...(options.ca ? { ca: options.ca } : {}),
    };
    this.dispatcher = new Agent({
      connectTimeout: this.options.connectTimeoutMs,
      headersTimeout: this.options.totalTimeoutMs,
      bodyTimeout: this.options.totalTimeoutMs,
      connections: 128,
      ...(options.ca ? { connect: { ca: [...rootCertificates(), options.ca] } } : {}),
    });
  }

  async request(upstream: string, url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    const service = req.service ?? upstream;
    const timeoutMs = req.timeoutMs ?? this.options.totalTimeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutSignal()), timeoutMs);
    const onOuterAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent,
      accept: 'application/json',
      ...req.headers,
    };
    let body = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    try {
      const target = new URL(url);
      const res = await this.dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: req.method ?? 'GET',
        headers,
        body: body ?? null,
        signal: controller.signal,
      });
      const tooLarge = () => {
        res.body.destroy();
        return new ProviderError(
          'upstream_unavailable',
          upstream,
          `${service} answered with a response larger than ${this.options.maxBodyBytes} bytes; refusing to read it.`,
          { status: res.statusCode },
        );
      };
      if (Number(res.headers['content-length'] ?? 0) > this.options.maxBodyBytes) throw tooLarge();
      const text = await readBody(res.body, this.options.maxBodyBytes, tooLarge);
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
      }
      return { status: res.statusCode, headers: flat, body: text, url };
    } catch (error) {
      throw toProviderError(error, upstream, service, controller.signal, timeoutMs);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  /**
   * Run one SDK call (retries, several hops and all) under a single total deadline, the same
   * `totalTimeoutMs` a plain request gets. `fn` receives a signal to hand to the SDK; the
   * deadline holds even when the SDK ignores it (MSAL does): the call is abandoned and an
   * upstream_timeout naming `service` is thrown. `outer` (the caller's cancellation) ends it too.
   */
  async deadline<T>(
    upstream: string,
    service: string,
    outer: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.options.totalTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onOuterAbort: (() => void) | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(timeoutError(upstream, service, timeoutMs));
        controller.abort(new TimeoutSignal());
      }, timeoutMs);
      onOuterAbort = () => {
        reject(new ProviderError('upstream_timeout', upstream, `The request to ${service} was cancelled.`));
        controller.abort(outer?.reason);
      };
      if (outer?.aborted) onOuterAbort();
      else outer?.addEventListener('abort', onOuterAbort, { once: true });
    });
    try {
      return await Promise.race([fn(controller.signal), expired]);
    } finally {
      clearTimeout(timer);
      if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

class TimeoutSignal extends Error {}

/**
 * The body as UTF-8, refused past `max` bytes. Read through its events: an async iterator per
 * response was a tenth of a health probe's HTTP CPU.
 */
function readBody(body: Readable, max: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        // Stop reading: the rest of an oversized (or endless) body is never downloaded.
        reject(tooLarge());
        body.destroy();
      }
    });
    body.once('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    body.once('error', reject);
  });
}

function timeoutError(upstream: string, service: string, timeoutMs: number): ProviderError {
  return new ProviderError(
    'upstream_timeout',
    upstream,
    `${service} did not answer within ${Math.round(timeoutMs / 100) / 10} s. It may be down or slow; try again later.`,
  );
}

function toProviderError(
  error: unknown,
  upstream: string,
  service: string,
  signal: AbortSignal,
  timeoutMs: number,
): ProviderError {
  if (error instanceof ProviderError) return error;
  const timedOut =
    signal.reason instanceof TimeoutSignal ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError;
  if (timedOut) return timeoutError(upstream, service, timeoutMs);
  const code = (error as { code?: string } | null)?.code;
  return new ProviderError(
    'upstream_unavailable',
    upstream,
    `Could not reach ${service}${code ? ` (${code})` : ''}. Check the endpoint configuration and network, then try again.`,
  );
}

/** Parse a JSON body; a garbled one is the upstream's fault, reported as such. */
export function parseJson(upstream: string, res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new ProviderError(
      'upstream_unavailable',
      upstream,
      `${upstream} answered HTTP ${res.status} with a body that is not valid JSON.`,
      { status: res.status },
    );
  }
}

/**
 * The JSON body of `res` read through `schema`; upstream_unavailable saying where it differs.
 * `what` names the answer ("token verify"), `hint` says what to check.
 */
export function decodeJson<S extends z.ZodType>(
  upstream: string,
  res: HttpResponse,
  schema: S,
  { what, hint }: { what?: string; hint?: string } = {},
): z.infer<S> {
  const parsed = schema.safeParse(parseJson(upstream, res));
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.map(String).join('.') || 'body';
    throw new ProviderError(
      'upstream_unavailable',
      upstream,
      `${upstream} answered${what ? ` ${what}` : ''} with a body of an unexpected shape (at "${where}").${hint ? ` ${hint}` : ''}`,
      { status: res.status },
    );
  }
  return parsed.data;
}

/**
 * Seconds to wait before retrying, from `Retry-After` (seconds or HTTP date) or Docker Hub's
 * `X-Retry-After` (a unix timestamp). Undefined when neither is usable.
 */
export function retryAfterSeconds(headers: Record<string, string>, now: Date): number | undefined {
  const raw = headers['retry-after'];
  if (raw !== undefined) {
    if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
  }
  const unix = headers['x-retry-after'];
  if (unix !== undefined && /^\d+$/.test(unix.trim())) {
    return Math.max(0, Number(unix.trim()) - Math.floor(now.getTime() / 1000));
  }
  return undefined;
}

function rootCertificates(): string[] {
  return [...nodeRoots];
}
