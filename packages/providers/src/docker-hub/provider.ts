import type { DockerHubSecret } from '@alphaswarm/contracts';
import { definePatProvider } from '../shared/define';
import { guardSecrets, missingSecret } from '../shared/secrets';
import { trimSlash } from '../shared/text';
import type { HealthResult, LinkDraft, ProviderContext, StoredLink } from '../types';
import { login, lookup, requireMembership } from './client';
import { dockerHubDescriptor as descriptor } from './descriptor';
import { denied, PAT_PLACE, UPSTREAM } from './errors';
import { type DockerHubLinkMetadata, OrgProfile, UserProfile } from './schemas';

/** The steps of a Docker Hub link: validate, health, issue; the probe is login then a namespace lookup. */
export const provider = definePatProvider<'docker_hub', DockerHubSecret>(descriptor, {
  upstream: UPSTREAM,

  async validate(ctx, input): Promise<LinkDraft<DockerHubSecret>> {
    const secrets = [input.pat];
    return guardSecrets(secrets, async () => {
      const found = await probe(ctx, input.username, input.pat, input.namespace ?? input.username, secrets);
      return {
        namespace: found.namespace,
        metadata: found.metadata,
        secret: { username: input.username, pat: input.pat },
        status: 'healthy',
        error: null,
        warnings: [],
        expires_at: null,
      };
    });
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { username, pat } = readSecret(link);
    const secrets = [pat];
    return guardSecrets(secrets, async () => {
      const found = await probe(ctx, username, pat, link.namespace, secrets);
      return { status: 'healthy', error: null, metadata: found.metadata, expires_at: null };
    });
  },

  async issueCredentials(_ctx, link) {
    const { username, pat } = readSecret(link);
    return { kind: 'docker_hub', username, pat, namespace: link.namespace };
  },
});

function readSecret(link: StoredLink<DockerHubSecret>): DockerHubSecret {
  if (link.secret === null)
    throw missingSecret(UPSTREAM, `Create a personal access token on ${PAT_PLACE} and connect again.`);
  return link.secret;
}

interface Found {
  namespace: string;
  metadata: DockerHubLinkMetadata;
}

async function probe(
  ctx: ProviderContext,
  username: string,
  pat: string,
  namespace: string,
  secrets: string[],
): Promise<Found> {
  const base = trimSlash(ctx.upstreams.dockerHubUrl);
  const jwt = await login(ctx, base, username, pat);
  secrets.push(jwt);

  if (namespace.toLowerCase() === username.toLowerCase()) {
    const user = await lookup(ctx, `${base}/v2/users/${encodeURIComponent(namespace)}/`, jwt, UserProfile, namespace);
    if (user.type === 'Org') throw denied(namespace, username, 'is an organization, not your user account');
    return {
      namespace: user.username,
      metadata: { username, namespace_type: 'user', full_name: user.full_name || null, token_expires_at: null },
    };
  }

  const org = await lookup(ctx, `${base}/v2/orgs/${encodeURIComponent(namespace)}`, jwt, OrgProfile, namespace);
  await requireMembership(ctx, base, jwt, org.orgname, username);
  return {
    namespace: org.orgname,
    metadata: { username, namespace_type: 'org', full_name: org.full_name || null, token_expires_at: null },
  };
}
