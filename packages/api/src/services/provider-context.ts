import type { ProviderContext } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';

/** What a provider may touch, from the host's dependencies; `signal` cuts a probe short (a stopping sweep). */
export function providerContext(
  deps: Pick<ApiDeps, 'http' | 'upstreams' | 'now' | 'subjectTokens'>,
  signal?: AbortSignal,
): ProviderContext {
  return {
    http: deps.http,
    upstreams: deps.upstreams,
    now: deps.now,
    workload: deps.subjectTokens,
    ...(signal ? { signal } : {}),
  };
}
