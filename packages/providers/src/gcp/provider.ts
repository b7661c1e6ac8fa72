import type { IdentityResult, PermissionCheck, ResourcesResult } from '@alphaswarm/contracts';
import { defineCloudProvider } from '../shared/define';
import { storedMetadata } from '../shared/errors';
import { lazyModule } from '../shared/lazy';
import {
  missingOptional,
  optionalNotGranted,
  optionalWarnings,
  permissionHealthResult,
  permissionNames,
  requireGranted,
} from '../shared/permissions';
import { federatedDraft } from '../shared/warnings';
import type { HealthResult, StoredLink } from '../types';
import {
  DEFAULT_POOL_ID,
  DEFAULT_PROVIDER_ID,
  federatedPrincipal,
  GCP_JWKS_FILE,
  gcpExternalAccount,
  gcpGcloudScript,
  gcpTerraform,
  PROJECT_NUMBER_PLACEHOLDER,
} from './artifacts';
import type { GcpParams } from './client';
import { gcpDescriptor as descriptor } from './descriptor';
import { GCP_UPSTREAM, GcpLinkMetadata, gcpAudience, ISSUED_TOKEN_SECONDS, PROBE_TOKEN_SECONDS } from './schemas';

// The cloud SDK loads on first use: `serve` and every CLI command start without it.
const sdk = lazyModule(() => import('./client'));

function optionalWording(missing: PermissionCheck[]): string {
  return optionalNotGranted(missing, ' on the project', "the service account's role includes");
}

function storedParams(link: StoredLink): { params: GcpParams; metadata: GcpLinkMetadata } {
  const metadata = storedMetadata(
    GcpLinkMetadata,
    link.metadata,
    GCP_UPSTREAM,
    'The stored Google Cloud link is missing its provider, service account or project; reconnect it through the wizard.',
  );
  const { workload_identity_provider, service_account_email, project_id } = metadata;
  return { params: { workload_identity_provider, service_account_email, project_id }, metadata };
}

/** The wizard steps, health and issue of a Google Cloud link: workload identity federation, nothing secret stored. */
export const provider = defineCloudProvider<'cloud_gcp', null>(descriptor, {
  upstream: GCP_UPSTREAM,

  audience: (params) =>
    gcpAudience(
      params?.workload_identity_provider ??
        `projects/${PROJECT_NUMBER_PLACEHOLDER}/locations/global/workloadIdentityPools/${DEFAULT_POOL_ID}/providers/${DEFAULT_PROVIDER_ID}`,
    ),

  async bootstrapArtifacts(ctx, wizard) {
    const facts = {
      issuer: ctx.workload.issuer,
      subject: wizard.subject,
      params: wizard.params,
      projectId: wizard.setup?.project_id ?? null,
    };
    const externalAccount = gcpExternalAccount(ctx.upstreams.gcp, facts);
    const jwks = ctx.workload.jwks ? await ctx.workload.jwks() : null;
    return {
      audience: externalAccount.audience,
      artifacts: [
        { name: 'alphaswarm-gcp.tf', media_type: 'text/x-hcl', content: gcpTerraform(facts) },
        { name: 'alphaswarm-gcp.sh', media_type: 'text/x-shellscript', content: gcpGcloudScript(facts) },
        {
          name: 'alphaswarm-external-account.json',
          media_type: 'application/json',
          content: `${JSON.stringify(externalAccount, null, 2)}\n`,
        },
        // Last: only the JWKS-upload variant needs it.
        ...(jwks
          ? [{ name: GCP_JWKS_FILE, media_type: 'application/json', content: `${JSON.stringify(jwks, null, 2)}\n` }]
          : []),
      ],
      links: [],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const token = await sdk.impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    return {
      principal: wizard.params.service_account_email,
      details: {
        service_account_email: wizard.params.service_account_email,
        project_id: wizard.params.project_id,
        workload_identity_provider: wizard.params.workload_identity_provider,
        federated_principal: federatedPrincipal(wizard.params.workload_identity_provider, wizard.subject),
        token_expires_at: token.expiresAt.toISOString(),
      },
    };
  },

  async validatePermissions(ctx, wizard) {
    const token = await sdk.impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    return sdk.testPermissions(ctx, token, wizard.params);
  },

  async enumerateResources(ctx, wizard): Promise<ResourcesResult> {
    const token = await sdk.impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    const { projects, truncated } = await sdk.searchProjects(ctx, token);
    const resources = projects.map((p) => ({
      type: 'gcp_project',
      id: p.projectId,
      name: p.displayName ?? p.projectId,
      details: { name: p.name, ...(p.state ? { state: p.state } : {}), ...(p.parent ? { parent: p.parent } : {}) },
    }));
    return { resources, truncated };
  },

  async toLink(_ctx, wizard, permissions, resources) {
    requireGranted(
      permissions,
      GCP_UPSTREAM,
      (missing) =>
        `The service account ${wizard.params.service_account_email} lacks required permission${missing.length > 1 ? 's' : ''} ${permissionNames(missing).join(', ')} on project ${wizard.params.project_id}; grant a role that includes ${missing.length > 1 ? 'them' : 'it'} and check again.`,
    );
    const metadata = GcpLinkMetadata.parse({
      workload_identity_provider: wizard.params.workload_identity_provider,
      audience: gcpAudience(wizard.params.workload_identity_provider),
      service_account_email: wizard.params.service_account_email,
      project_id: wizard.params.project_id,
      ...(resources ? { projects: resources.resources.filter((r) => r.type === 'gcp_project').length } : {}),
      permissions: { missing_optional: missingOptional(permissions) },
    });
    const warnings = optionalWarnings(permissions, optionalWording);
    return federatedDraft(wizard.params.project_id, metadata, warnings);
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { params, metadata } = storedParams(link);
    const token = await sdk.impersonate(ctx, descriptor.subject(link.org_id), params, PROBE_TOKEN_SECONDS);
    const permissions = await sdk.testPermissions(ctx, token, params);
    return permissionHealthResult(permissions, metadata, {
      lost: (missing) =>
        `The service account ${params.service_account_email} lost required permission(s) on project ${params.project_id}: ${permissionNames(missing).join(', ')}.`,
      optional: optionalWording,
    });
  },

  async issueCredentials(ctx, link) {
    const { params } = storedParams(link);
    const token = await sdk.impersonate(ctx, descriptor.subject(link.org_id), params, ISSUED_TOKEN_SECONDS);
    return {
      kind: 'cloud_gcp',
      access_token: token.token,
      expires_at: token.expiresAt.toISOString(),
      service_account_email: params.service_account_email,
      project_id: params.project_id,
    };
  },
});
