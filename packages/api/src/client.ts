// Typed tRPC client for sibling services and the console: `createAdminClient({ url, token })`.
// The zod-free entry: this file is bundled into @alphaswarm/admin-client, which ships no zod.
import { TRPC_MAX_BATCH_SIZE } from '@alphaswarm/contracts/limits';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from './root';

export type { AppRouter, RouterInputs, RouterOutputs } from './root';

export interface AdminClientOptions {
  /** Base URL of the admin service, e.g. http://127.0.0.1:8700 */
  url: string;
  /** A bearer JWT, or a function returning a fresh one per request. */
  token: string | (() => string | Promise<string>);
  /** Extra headers per request (e.g. x-request-id). */
  headers?: () => Record<string, string>;
  fetch?: typeof fetch;
}

export function createAdminClient(options: AdminClientOptions): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${options.url.replace(/\/+$/, '')}/trpc`,
        maxItems: TRPC_MAX_BATCH_SIZE,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        async headers() {
          const token = typeof options.token === 'function' ? await options.token() : options.token;
          return { authorization: `Bearer ${token}`, ...options.headers?.() };
        },
      }),
    ],
  });
}
