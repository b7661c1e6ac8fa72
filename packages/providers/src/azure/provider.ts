import type { IdentityResult, PermissionCheck, Resource } from '@alphaswarm/contracts';
import { defineCloudProvider } from '../shared/define';
import { storedMetadata } from '../shared/errors';
import { lazyModule } from '../shared/lazy';
import { optionalWarnings, requireGranted, ungranted } from '../shared/permissions';
import { federatedDraft } from '../shared/warnings';
import type { HealthResult, LinkDraft, ProviderContext, StoredLink } from '../types';
import { azureArtifacts } from './artifacts';
import type { WizardFacts } from './client';
import { azureDescriptor as descriptor } from './descriptor';
import { ARM, ENTRA, READER_HINT } from './errors';
import { isActionAllowed, OPTIONAL_ACTIONS, REQUIRED_ACTIONS } from './permissions';
import { AZURE_AUDIENCE, AzureLinkMetadata } from './schemas';

// The cloud SDK loads on first use: `serve` and every CLI command start without it.
const sdk = lazyModule(() => import('./client'));

/** Subscriptions listed by enumerate_resources. */
const MAX_SUBSCRIPTIONS = 200;

/** The wizard steps, health and issue of an Azure link: a federated credential, nothing secret stored. */
export const provider = defineCloudProvider<'cloud_azure', null>(descriptor, {
  upstream: ENTRA,

  audience: () => AZURE_AUDIENCE,

  async bootstrapArtifacts(ctx, wizard) {
    return {
      audience: AZURE_AUDIENCE,
      artifacts: azureArtifacts({
        org_id: wizard.org_id,
        issuer: ctx.workload.issuer,
        subject: wizard.subject,
        audience: AZURE_AUDIENCE,
        subscription_ids: wizard.params?.subscription_ids ?? [],
      }),
      links: [
        {
          label: 'Microsoft Entra admin center: App registrations',
          url: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
        },
        {
          label: 'Workload identity federation (Microsoft docs)',
          url: 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation',
        },
      ],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const arm = await sdk.armToken(ctx, wizard);
    return {
      principal: arm.claims.oid,
      details: {
        tenant_id: arm.claims.tid,
        client_id: wizard.params.client_id,
        object_id: arm.claims.oid,
        token_expires_at: arm.expiresAt,
      },
    };
  },

  async validatePermissions(ctx, wizard): Promise<PermissionCheck[]> {
    const arm = await sdk.armToken(ctx, wizard);
    const subscriptionIds = await sdk.subscriptionsToCheck(ctx, arm.token, wizard.params.subscription_ids);
    return checkPermissions(ctx, arm.token, subscriptionIds);
  },

  async enumerateResources(ctx, wizard) {
    const arm = await sdk.armToken(ctx, wizard);
    const { items, truncated } = await sdk.listSubscriptions(ctx, arm.token, MAX_SUBSCRIPTIONS);
    const resources: Resource[] = items.map((s) => ({
      type: 'azure_subscription',
      id: s.subscriptionId,
      name: s.displayName || s.subscriptionId,
      details: { state: s.state ?? 'Unknown', tenant_id: s.tenantId ?? wizard.params.tenant_id },
    }));
    return { resources, truncated };
  },

  async toLink(_ctx, wizard, permissions, resources): Promise<LinkDraft<null>> {
    requireGranted(permissions, ARM, (missing) => `${describeMissing(missing)} ${READER_HINT}`);
    const warnings = optionalWarnings(
      permissions,
      (missing) =>
        `${describeMissing(missing)} These are optional: the platform skips what it cannot read. ${READER_HINT}`,
    );
    const fromChecks = [
      ...new Set(permissions.map((p) => subscriptionOfScope(p.scope)).filter((s): s is string => !!s)),
    ];
    const subscription_ids =
      wizard.params.subscription_ids ??
      (fromChecks.length > 0 ? fromChecks : (resources?.resources.map((r) => r.id) ?? []));
    const metadata: AzureLinkMetadata = {
      tenant_id: wizard.params.tenant_id,
      client_id: wizard.params.client_id,
      object_id: wizard.identity.details.object_id ?? wizard.identity.principal,
      subscription_ids,
    };
    return federatedDraft(wizard.params.tenant_id, metadata, warnings);
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const meta = readMetadata(link);
    const facts: WizardFacts = {
      org_id: link.org_id,
      subject: descriptor.subject(link.org_id),
      params: { tenant_id: meta.tenant_id, client_id: meta.client_id, subscription_ids: meta.subscription_ids },
    };
    const arm = await sdk.armToken(ctx, facts);
    const metadata: AzureLinkMetadata = { ...meta, object_id: arm.claims.oid };
    const subscriptionIds = await sdk.subscriptionsToCheck(
      ctx,
      arm.token,
      meta.subscription_ids.length > 0 ? meta.subscription_ids : undefined,
    );
    const checks = await checkPermissions(ctx, arm.token, subscriptionIds);
    const missing = ungranted(checks, true);
    if (missing.length === 0) return { status: 'healthy', error: null, metadata, expires_at: null };
    // A link spanning subscriptions is unhealthy only once every one of them lost a required permission.
    const broken = new Set(missing.map((c) => c.scope ?? ''));
    const status = broken.size >= Math.max(1, subscriptionIds.length) ? 'unhealthy' : 'degraded';
    return {
      status,
      error: { code: 'permission_missing', message: `${describeMissing(missing)} ${READER_HINT}` },
      metadata,
      expires_at: null,
    };
  },

  async issueCredentials(ctx, link) {
    const meta = readMetadata(link);
    const arm = await sdk.armToken(ctx, {
      org_id: link.org_id,
      subject: descriptor.subject(link.org_id),
      params: { tenant_id: meta.tenant_id, client_id: meta.client_id },
    });
    return {
      kind: 'cloud_azure',
      access_token: arm.token,
      expires_at: arm.expiresAt,
      tenant_id: meta.tenant_id,
      client_id: meta.client_id,
    };
  },
});

async function checkPermissions(
  ctx: ProviderContext,
  token: string,
  subscriptionIds: string[],
): Promise<PermissionCheck[]> {
  if (subscriptionIds.length === 0) {
    // Nothing visible: report every required action as missing rather than an empty (vacuously passing) list.
    return REQUIRED_ACTIONS.map((permission) => ({ permission, required: true, granted: false }));
  }
  const perSubscription = await sdk.permissionsOnEach(ctx, token, subscriptionIds);
  return subscriptionIds.flatMap((id, i) => {
    const entries = perSubscription[i] ?? [];
    const scope = `/subscriptions/${id}`;
    return [
      ...REQUIRED_ACTIONS.map((permission) => ({
        permission,
        required: true,
        granted: isActionAllowed(entries, permission),
        scope,
      })),
      ...OPTIONAL_ACTIONS.map((permission) => ({
        permission,
        required: false,
        granted: isActionAllowed(entries, permission),
        scope,
      })),
    ];
  });
}

function describeMissing(missing: PermissionCheck[]): string {
  const byScope = new Map<string, string[]>();
  for (const m of missing) {
    const scope = m.scope ?? 'any subscription';
    byScope.set(scope, [...(byScope.get(scope) ?? []), m.permission]);
  }
  const parts = [...byScope.entries()].map(([scope, actions]) => `${actions.join(', ')} on ${scope}`);
  return `The service principal lacks ${parts.join('; ')}.`;
}

function subscriptionOfScope(scope: string | undefined): string | null {
  const m = scope ? /^\/subscriptions\/([^/]+)$/i.exec(scope) : null;
  return m?.[1] ?? null;
}

function readMetadata(link: StoredLink<null>): AzureLinkMetadata {
  return storedMetadata(
    AzureLinkMetadata,
    link.metadata,
    ENTRA,
    'The stored Azure link is missing its tenant_id/client_id/object_id/subscription_ids metadata; reconnect it through the wizard.',
    'internal',
  );
}
