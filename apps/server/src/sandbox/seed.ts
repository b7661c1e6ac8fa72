import { probeAndRecord } from '@alphaswarm/api';
import { generateKey, isoNow, Keyring, sealSecret, upsertLink } from '@alphaswarm/db';
import { hfProfile } from '@alphaswarm/providers/fakes';
import type { Runtime } from '../runtime';
import type { DemoUpstreams } from './upstreams';

/** The orgs the sandbox seeds so a newcomer sees every state on the first page. */
export const SEEDED_ORGS = {
  healthy: 'acme-ml',
  expiring: 'globex-research',
  unhealthy: 'umbrella-ai',
  needsReconnect: 'initech-labs',
} as const;

/**
 * A healthy org, one whose token expires in ten days (degraded), one whose token the upstream
 * rejects (unhealthy) and one whose secret no configured key can read (needs reconnect). Each
 * link is then probed for real against the fakes, so what the console shows is the probe's verdict.
 */
export async function seedAttentionOrgs(rt: Runtime, up: DemoUpstreams): Promise<void> {
  const expiring = 'hf_sandbox_expiring_0000000000000';
  up.fakes.hf.addToken(
    expiring,
    hfProfile({
      name: 'globex-bot',
      role: 'read',
      expiration: new Date(rt.now().getTime() + 10 * 86_400_000).toISOString(),
    }),
  );
  const lostKeyring = Keyring.fromEnv(generateKey());
  const seeds = [
    {
      org: SEEDED_ORGS.healthy,
      ns: up.demo.huggingface.namespace,
      token: up.demo.huggingface.token,
      keyring: rt.keyring,
      status: 'healthy' as const,
    },
    { org: SEEDED_ORGS.expiring, ns: 'globex-bot', token: expiring, keyring: rt.keyring, status: 'healthy' as const },
    {
      org: SEEDED_ORGS.unhealthy,
      ns: 'umbrella',
      token: up.demo.huggingface.bad_token,
      keyring: rt.keyring,
      status: 'healthy' as const,
    },
    {
      org: SEEDED_ORGS.needsReconnect,
      ns: 'initech',
      token: 'hf_sandbox_lost_key',
      keyring: lostKeyring,
      status: 'needs_reconnect' as const,
    },
  ];
  for (const seed of seeds) {
    const row = await upsertLink(
      rt.store.db,
      {
        orgId: seed.org,
        kind: 'huggingface',
        namespace: seed.ns,
        status: seed.status,
        error:
          seed.status === 'needs_reconnect'
            ? { code: 'secret_unreadable', message: 'No configured key can decrypt the stored token: reconnect it.' }
            : null,
        metadata: {},
        secret: sealSecret(seed.keyring, { token: seed.token }),
        expiresAt: null,
      },
      isoNow(rt.now()),
    );
    await probeAndRecord(rt, row);
  }
  await probeAndRecord(
    rt,
    await upsertLink(
      rt.store.db,
      {
        orgId: SEEDED_ORGS.healthy,
        kind: 'docker_hub',
        namespace: up.demo.docker_hub.namespace,
        status: 'healthy',
        error: null,
        metadata: { username: up.demo.docker_hub.username },
        secret: sealSecret(rt.keyring, { username: up.demo.docker_hub.username, pat: up.demo.docker_hub.pat }),
        expiresAt: null,
      },
      isoNow(rt.now()),
    ),
  );
}
