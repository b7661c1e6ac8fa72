import type { AppRouter, RouterOutputs } from '@alphaswarm/api';
import { createAdminClient } from '@alphaswarm/api/client';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { type ConsoleEnv, consoleEnv } from './env';

export type Api = TRPCClient<AppRouter>;
export type TokenSet = RouterOutputs['auth']['stepUp'];
export type WizardSession = RouterOutputs['cloudOnboarding']['get'];
export type ImportReport = RouterOutputs['store']['import'];
export type MutationResult = RouterOutputs['integrations']['checkHealth'];

type ApiEnv = Pick<ConsoleEnv, 'ALPHASWARM_ADMIN_API_URL' | 'ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS'>;

const dispatchers = new Map<string, Agent>();

/**
 * How the console's server reaches the API. With ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS its
 * connections leave from that local address, so the API can believe X-Forwarded-For from exactly
 * this console (ALPHASWARM_ADMIN_TRUSTED_PROXIES) and from nothing else on the same host.
 */
function apiFetch(env: ApiEnv): typeof fetch | undefined {
  const source = env.ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS;
  if (!source) return undefined;
  let dispatcher = dispatchers.get(source);
  if (!dispatcher) {
    dispatcher = new Agent({ localAddress: source });
    dispatchers.set(source, dispatcher);
  }
  const bound = dispatcher;
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: bound })) as unknown as typeof fetch;
}

/** The browser's address, forwarded so the API limits and audits each client, not the console. */
function forwarded(clientIp: string | null): Record<string, string> {
  return clientIp ? { 'x-forwarded-for': clientIp } : {};
}

/** A client acting as the signed-in admin: `token` yields a fresh access token per request. */
export function adminApiFor(env: ApiEnv, token: () => Promise<string>, clientIp: string | null): Api {
  const custom = apiFetch(env);
  return createAdminClient({
    url: env.ALPHASWARM_ADMIN_API_URL,
    token,
    headers: () => forwarded(clientIp),
    ...(custom ? { fetch: custom } : {}),
  });
}

/** Public procedures (sign-in, sign-out, system info) on behalf of the browser at `clientIp`: no bearer. */
export function publicApiFor(env: ApiEnv, clientIp: string | null): Api {
  const custom = apiFetch(env);
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${env.ALPHASWARM_ADMIN_API_URL}/trpc`,
        headers: () => forwarded(clientIp),
        ...(custom ? { fetch: custom } : {}),
      }),
    ],
  });
}

export function adminApi(token: () => Promise<string>, clientIp: string | null): Api {
  return adminApiFor(consoleEnv(), token, clientIp);
}

export function publicApi(clientIp: string | null): Api {
  return publicApiFor(consoleEnv(), clientIp);
}
