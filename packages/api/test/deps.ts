import { AuditKeyRing, generateKey, Keyring } from '@alphaswarm/db';
import type { HttpClient } from '@alphaswarm/providers';
import { DenialThrottle, OutcomeBacklog } from '../src/audit/writer';
import type { ApiDeps } from '../src/deps';

/**
 * What the procedures depend on, for a spec calling them through `createCaller`: a database and a
 * token verifier of the spec's own, fresh keys, a quiet logger, no upstream (a spec that reaches
 * one passes `http` and `upstreams`), and the configuration a test deployment has.
 */
export function testDeps(given: Pick<ApiDeps, 'db' | 'verifier'> & Partial<ApiDeps>): ApiDeps {
  return {
    keyring: Keyring.fromEnv(generateKey()),
    now: () => new Date(),
    http: {} as HttpClient,
    upstreams: {} as ApiDeps['upstreams'],
    subjectTokens: { issuer: 'https://admin.test/workload', mint: () => Promise.reject(new Error('not here')) },
    config: {
      environment: 'test',
      publicUrl: 'https://admin.test',
      consoleUrl: 'https://console.test',
      stepUpMaxAge: 600,
      platformServiceScope: true,
      healthRetentionDays: 90,
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    idp: null,
    denials: new DenialThrottle(),
    outcomes: new OutcomeBacklog(),
    auditKeys: AuditKeyRing.fromEnv(generateKey()),
    ephemeralKey: false,
    productionProblems: () => [],
    ...given,
  };
}
