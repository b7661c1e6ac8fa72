import { gaxios, IdentityPoolClient, type IdentityPoolClientOptions } from 'google-auth-library';
import { httpMethod, recording, requestBody, type TransportFaults } from '../shared/sdk-transport';
import type { ProviderContext } from '../types';
import { GCP_UPSTREAM } from './schemas';

/** Which hop of the chain a URL belongs to, as error messages name it. */
export function stageOf(url: string): 'Google IAM Credentials' | 'Google STS' {
  return url.includes(':generateAccessToken') ? 'Google IAM Credentials' : 'Google STS';
}

/** Statuses whose Response may carry no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * google-auth-library's fetch, over our HttpClient: its connect and total timeouts, size cap,
 * TLS trust and no-redirect rule apply to both hops of the chain. Undici's fetch alone would
 * read a reply of any size in full. What it throws lands in `faults`, since gaxios wraps it.
 */
function boundedFetch(ctx: ProviderContext, faults: TransportFaults): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    // What fetch itself would add for a form body (the STS exchange).
    if (init?.body instanceof URLSearchParams)
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    const res = await recording(faults, () =>
      ctx.http.request(GCP_UPSTREAM, url, {
        method: httpMethod(init?.method ?? 'GET', GCP_UPSTREAM),
        headers,
        ...bodyOf(init?.body),
        service: stageOf(url),
        ...(init?.signal ? { signal: init.signal } : {}),
      }),
    );
    return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

function bodyOf(body: unknown): { body?: string | Uint8Array } {
  const value = requestBody(body, GCP_UPSTREAM);
  return value === undefined ? {} : { body: value };
}

export function transporter(ctx: ProviderContext, signal: AbortSignal, faults: TransportFaults): gaxios.Gaxios {
  return new gaxios.Gaxios({
    fetchImplementation: boundedFetch(ctx, faults),
    // One quick retry of a 5xx; a 429 or a refused connection goes straight back to the wizard.
    retryConfig: { retry: 1, noResponseRetries: 0, retryDelay: 100, statusCodesToRetry: [[500, 599]] },
    // Gaxios merges defaults with a deep extend that copies only plain objects, so the signal survives.
    signal,
  });
}

/**
 * google-auth-library gives its STS exchanger a bare `new Gaxios()` (no timeout, three retries
 * with backoff) instead of the client's transporter. Hand it ours so both hops of the chain
 * share one transport, retry policy and deadline.
 */
export class BoundedIdentityPoolClient extends IdentityPoolClient {
  constructor(options: IdentityPoolClientOptions) {
    super(options);
    (this.stsCredential as unknown as { transporter: gaxios.Gaxios }).transporter = this.transporter;
  }
}
