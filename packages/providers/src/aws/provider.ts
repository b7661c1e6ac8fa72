import type { IdentityResult, PermissionCheck, Resource, ResourcesResult } from '@alphaswarm/contracts';
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
import type { HealthResult, ProviderContext, StoredLink } from '../types';
import {
  AWS_TEMPLATE_FILE,
  awsCloudFormationTemplate,
  awsDeployScript,
  awsQuickCreateUrl,
  awsStackName,
  awsTerraform,
  DEFAULT_ROLE_NAME,
} from './artifacts';
import type { AwsParams } from './client';
import { awsDescriptor as descriptor } from './descriptor';
import { accountOf } from './errors';
import {
  AWS_AUDIENCE,
  AWS_REGION_CAP,
  AWS_UPSTREAM,
  AwsLinkMetadata,
  ISSUED_SESSION_SECONDS,
  PROBE_SESSION_SECONDS,
} from './schemas';

// The cloud SDK loads on first use: `serve` and every CLI command start without it.
const sdk = lazyModule(() => import('./client'));

function optionalWording(missing: PermissionCheck[]): string {
  return optionalNotGranted(missing, '', "the role's policy allows");
}

function storedParams(link: StoredLink): { params: AwsParams; metadata: AwsLinkMetadata } {
  const metadata = storedMetadata(
    AwsLinkMetadata,
    link.metadata,
    AWS_UPSTREAM,
    'The stored AWS link is missing its role ARN or region; reconnect it through the wizard.',
  );
  return { params: { role_arn: metadata.role_arn, region: metadata.region }, metadata };
}

/** A session as the link's own subject, as health and issue take one. */
function linkSession(ctx: ProviderContext, link: StoredLink, params: AwsParams, seconds: number) {
  return sdk.assumeRole(ctx, link.org_id, descriptor.subject(link.org_id), params, seconds);
}

/** The wizard steps, health and issue of an AWS link: a role trusting our issuer, nothing secret stored. */
export const provider = defineCloudProvider<'cloud_aws', null>(descriptor, {
  upstream: AWS_UPSTREAM,

  audience: () => AWS_AUDIENCE,

  async bootstrapArtifacts(ctx, wizard) {
    const facts = {
      issuer: ctx.workload.issuer,
      subject: wizard.subject,
      audience: AWS_AUDIENCE,
      roleName: DEFAULT_ROLE_NAME,
    };
    const region = wizard.params?.region ?? ctx.upstreams.aws.region;
    const stackName = awsStackName(wizard.org_id);
    const templateUrl = ctx.upstreams.aws.templateUrl;
    return {
      audience: AWS_AUDIENCE,
      artifacts: [
        {
          name: AWS_TEMPLATE_FILE,
          media_type: 'application/json',
          content: `${JSON.stringify(awsCloudFormationTemplate(facts), null, 2)}\n`,
        },
        {
          name: 'alphaswarm-aws-deploy.sh',
          media_type: 'text/x-shellscript',
          content: awsDeployScript({ region, stackName, subject: wizard.subject, roleName: DEFAULT_ROLE_NAME }),
        },
        { name: 'alphaswarm-aws-role.tf', media_type: 'text/x-hcl', content: awsTerraform(facts) },
      ],
      // The console loads quick-create templates only from a URL; without one hosted there is no working link.
      links: templateUrl
        ? [
            {
              label: 'CloudFormation quick-create',
              url: awsQuickCreateUrl({
                templateUrl,
                region,
                stackName,
                params: { Subject: wizard.subject, RoleName: DEFAULT_ROLE_NAME },
              }),
            },
          ]
        : [],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const session = await sdk.assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    const who = await sdk.callerIdentity(ctx, session, wizard.params.role_arn);
    return {
      principal: who.arn,
      details: { account: who.account, user_id: who.userId, role_arn: wizard.params.role_arn },
    };
  },

  async validatePermissions(ctx, wizard) {
    const session = await sdk.assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    return sdk.simulate(ctx, session, wizard.params.role_arn);
  },

  async enumerateResources(ctx, wizard): Promise<ResourcesResult> {
    const session = await sdk.assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    const [alias, regions] = await Promise.all([
      sdk.accountAlias(ctx, session, wizard.params.role_arn),
      sdk.enabledRegions(ctx, session, wizard.params.role_arn),
    ]);
    const account = wizard.identity.details.account ?? accountOf(wizard.params.role_arn);
    const resources: Resource[] = [
      { type: 'aws_account', id: account, name: alias ?? account, ...(alias ? { details: { alias } } : {}) },
      ...regions.slice(0, AWS_REGION_CAP).map((r) => ({
        type: 'aws_region',
        id: r.RegionName,
        name: r.RegionName,
        details: { endpoint: r.Endpoint ?? '', opt_in_status: r.OptInStatus ?? '' },
      })),
    ];
    return { resources, truncated: regions.length > AWS_REGION_CAP };
  },

  async toLink(ctx, wizard, permissions, resources) {
    requireGranted(
      permissions,
      AWS_UPSTREAM,
      (missing) =>
        `The role ${wizard.params.role_arn} lacks required permission${missing.length > 1 ? 's' : ''} ${permissionNames(missing).join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to the role's policy and check again.`,
    );
    const account = wizard.identity.details.account ?? accountOf(wizard.params.role_arn);
    const alias = resources?.resources.find((r) => r.type === 'aws_account')?.details?.alias;
    const metadata = AwsLinkMetadata.parse({
      role_arn: wizard.params.role_arn,
      account_id: account,
      ...(alias ? { account_alias: alias } : {}),
      regions: (resources?.resources ?? []).filter((r) => r.type === 'aws_region').map((r) => r.id),
      region: wizard.params.region ?? ctx.upstreams.aws.region,
      permissions: { missing_optional: missingOptional(permissions) },
    });
    const warnings = optionalWarnings(permissions, optionalWording);
    return federatedDraft(account, metadata, warnings);
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { params, metadata } = storedParams(link);
    const session = await linkSession(ctx, link, params, PROBE_SESSION_SECONDS);
    await sdk.callerIdentity(ctx, session, params.role_arn);
    const permissions = await sdk.simulate(ctx, session, params.role_arn);
    return permissionHealthResult(permissions, metadata, {
      lost: (missing) =>
        `The role ${params.role_arn} lost required permission(s): ${permissionNames(missing).join(', ')}.`,
      optional: optionalWording,
    });
  },

  async issueCredentials(ctx, link) {
    const { params } = storedParams(link);
    const session = await linkSession(ctx, link, params, ISSUED_SESSION_SECONDS);
    return {
      kind: 'cloud_aws',
      access_key_id: session.credentials.accessKeyId,
      secret_access_key: session.credentials.secretAccessKey,
      session_token: session.credentials.sessionToken,
      expires_at: session.expiration.toISOString(),
      role_arn: params.role_arn,
      region: session.region,
    };
  },
});
