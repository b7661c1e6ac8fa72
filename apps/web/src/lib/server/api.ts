import { type AppRouter, createAdminClient, type RouterOutputs } from '@alphaswarm/server/client';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { consoleEnv } from './env';

export type Api = TRPCClient<AppRouter>;
export type TokenSet = RouterOutputs['auth']['stepUp'];
export type WizardSession = RouterOutputs['cloudOnboarding']['get'];
export type ImportReport = RouterOutputs['store']['import'];

/** A client acting as the signed-in admin: `token` yields a fresh access token per request. */
export function adminApi(token: () => Promise<string>, clientIp: string | null): Api {
  return createAdminClient({
    url: consoleEnv().ALPHASWARM_ADMIN_API_URL,
    token,
    headers: (): Record<string, string> => (clientIp ? { 'x-forwarded-for': clientIp } : {}),
  });
}

let anonymous: Api | null = null;

/** Public procedures (sign-in, system info): no bearer at all. */
export function publicApi(): Api {
  anonymous ??= createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${consoleEnv().ALPHASWARM_ADMIN_API_URL}/trpc` })],
  });
  return anonymous;
}
