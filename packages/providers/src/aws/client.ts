import { Readable } from 'node:stream';
import { httpMethod, requestBody } from '../shared/sdk-transport';
import type { ProviderContext } from '../types';
import { AWS_UPSTREAM } from './schemas';

/** The AWS services the provider calls, as error messages name them. */
export type AwsService = 'AWS STS' | 'AWS IAM' | 'AWS EC2';

/** The parts of the SDK's (smithy) HttpRequest this handler reads. */
interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function urlOf(request: SdkRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([key, value]) =>
      value === null
        ? [encodeURIComponent(key)]
        : (Array.isArray(value) ? value : [value]).map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(v)}`),
    )
    .join('&');
  const port = request.port ? `:${request.port}` : '';
  return `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ''}`;
}

/**
 * The AWS SDK's request handler, over our HttpClient: its connect timeout, per-request total
 * timeout, size cap, TLS trust and typed errors apply to every AWS call. The SDK's own Node
 * handler only has an idle timeout, so a trickling endpoint kept a call open for minutes, and it
 * reads any answer in full.
 */
function requestHandler(ctx: ProviderContext, service: AwsService) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: SdkRequest, options: { abortSignal?: unknown } = {}) {
      const res = await ctx.http.request(AWS_UPSTREAM, urlOf(request), {
        method: httpMethod(request.method, service),
        headers: request.headers,
        ...bodyOf(request.body),
        service,
        ...(options.abortSignal instanceof AbortSignal ? { signal: options.abortSignal } : {}),
      });
      return {
        response: { statusCode: res.status, headers: res.headers, body: Readable.from(Buffer.from(res.body, 'utf8')) },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    // The HttpClient is shared and outlives the SDK client.
    destroy() {},
  };
}

function bodyOf(body: unknown): { body?: string | Uint8Array } {
  const value = requestBody(body, AWS_UPSTREAM);
  return value === undefined ? {} : { body: value };
}

export function sdkConfig(ctx: ProviderContext, service: AwsService, region: string, endpoint: string | undefined) {
  return {
    region,
    // One retry: the SDK's own backoff handles a blip (5xx, throttling), the wizard reports anything longer.
    maxAttempts: 2,
    requestHandler: requestHandler(ctx, service),
    // Endpoints come from our configuration only (the server reads AWS_ENDPOINT_URL* in env.ts, where the
    // production gate sees them), never from the process environment or ~/.aws/config behind its back.
    ignoreConfiguredEndpointUrls: true,
    ...(endpoint ? { endpoint } : {}),
  };
}

/** One SDK call (its retry included) under the HttpClient's total deadline. */
export function bounded<T>(ctx: ProviderContext, service: AwsService, send: (abortSignal: AbortSignal) => Promise<T>) {
  return ctx.http.deadline(AWS_UPSTREAM, service, ctx.signal, send);
}
