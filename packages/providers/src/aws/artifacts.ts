import { hcl } from '../shared/text';
import { AWS_AUDIENCE, AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS, ISSUED_SESSION_SECONDS } from './schemas';

export interface AwsTrustFacts {
  /** Our workload issuer URL, e.g. https://admin.example.com/workload */
  issuer: string;
  /** `org:<org_id>:cloud_aws` */
  subject: string;
  audience?: string;
  roleName?: string;
}

export const DEFAULT_ROLE_NAME = 'AlphaSwarmReadOnly';

/**
 * We cannot host the template on the customer's behalf: the console only loads a quick-create
 * template from a URL (in practice S3). The operator uploads the JSON once per deployment and
 * replaces this placeholder; the org-specific subject travels in `param_Subject`.
 */
export const AWS_TEMPLATE_URL_PLACEHOLDER = 'https://YOUR-BUCKET.s3.amazonaws.com/alphaswarm-aws-role.json';

/** IAM keys OIDC condition variables by the provider URL without its scheme. */
export function issuerHostPath(issuer: string): string {
  const url = new URL(issuer);
  return `${url.host}${url.pathname}`.replace(/\/+$/, '');
}

function readOnlyActions(): string[] {
  return [...AWS_REQUIRED_ACTIONS, ...AWS_OPTIONAL_ACTIONS].filter((a) => a !== 'iam:SimulatePrincipalPolicy');
}

/**
 * A CloudFormation template (JSON, so anything can parse it) creating the OIDC provider for our
 * issuer — unless one already exists, since IAM allows one per URL — and a role only our subject
 * can assume. The issuer is baked into the condition keys (CloudFormation cannot compute keys);
 * the subject is a parameter so one hosted template serves every org of this deployment.
 */
export function awsCloudFormationTemplate(facts: AwsTrustFacts): Record<string, unknown> {
  const hostPath = issuerHostPath(facts.issuer);
  const audience = facts.audience ?? AWS_AUDIENCE;
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `AlphaSwarm read-only access: a role assumable with web identity tokens from ${facts.issuer}.`,
    Parameters: {
      Subject: {
        Type: 'String',
        Default: facts.subject,
        AllowedPattern: '^org:[^:]+:cloud_aws$',
        Description: 'The AlphaSwarm subject (sub claim) allowed to assume the role; shown in the AlphaSwarm wizard.',
      },
      RoleName: {
        Type: 'String',
        Default: facts.roleName ?? DEFAULT_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
      },
      ExistingOIDCProviderArn: {
        Type: 'String',
        Default: '',
        Description: `ARN of an IAM OIDC provider for ${facts.issuer} that already exists in this account. Leave empty to create one.`,
      },
    },
    Conditions: {
      CreateOIDCProvider: { 'Fn::Equals': [{ Ref: 'ExistingOIDCProviderArn' }, ''] },
    },
    Resources: {
      OIDCProvider: {
        Type: 'AWS::IAM::OIDCProvider',
        Condition: 'CreateOIDCProvider',
        Properties: { Url: facts.issuer, ClientIdList: [audience] },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: { Ref: 'RoleName' },
          Description: 'Assumed by AlphaSwarm through OIDC web identity federation; read-only.',
          MaxSessionDuration: ISSUED_SESSION_SECONDS,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: {
                  Federated: {
                    'Fn::If': ['CreateOIDCProvider', { Ref: 'OIDCProvider' }, { Ref: 'ExistingOIDCProviderArn' }],
                  },
                },
                Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: {
                  StringEquals: {
                    [`${hostPath}:aud`]: audience,
                    [`${hostPath}:sub`]: { Ref: 'Subject' },
                  },
                },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'alphaswarm-read-only',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Sid: 'ReadOnly', Effect: 'Allow', Action: readOnlyActions(), Resource: '*' },
                  {
                    Sid: 'SelfCheck',
                    Effect: 'Allow',
                    Action: 'iam:SimulatePrincipalPolicy',
                    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS.
                    Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}' },
                  },
                ],
              },
            },
          ],
        },
      },
    },
    Outputs: {
      RoleArn: { Description: 'Paste this into the AlphaSwarm wizard.', Value: { 'Fn::GetAtt': ['Role', 'Arn'] } },
    },
  };
}

/** The CloudFormation console's quick-create link (upstreams.md §3h); everything after `#` stays in the browser. */
export function awsQuickCreateUrl(input: {
  templateUrl: string;
  region: string;
  stackName: string;
  params: Record<string, string>;
}): string {
  const query = new URLSearchParams({ templateURL: input.templateUrl, stackName: input.stackName });
  for (const [name, value] of Object.entries(input.params)) query.set(`param_${name}`, value);
  return `https://console.aws.amazon.com/cloudformation/home?region=${encodeURIComponent(input.region)}#/stacks/create/review?${query.toString()}`;
}

/** Stack names: letters, digits and hyphens, starting with a letter, at most 128 characters. */
export function awsStackName(orgId: string): string {
  return `alphaswarm-${orgId.replace(/[^A-Za-z0-9-]+/g, '-')}`.slice(0, 128).replace(/-+$/, '');
}

/** The same trust and policy as the template, for customers who manage IAM with Terraform. */
export function awsTerraform(facts: AwsTrustFacts): string {
  const hostPath = issuerHostPath(facts.issuer);
  const audience = facts.audience ?? AWS_AUDIENCE;
  const actions = readOnlyActions()
    .map((a) => `        ${hcl(a)},`)
    .join('\n');
  return `# AlphaSwarm read-only role, trusted through OIDC web identity federation.
# Apply with: terraform init && terraform apply, then paste the role_arn output into the wizard.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "role_name" {
  type    = string
  default = ${hcl(facts.roleName ?? DEFAULT_ROLE_NAME)}
}

variable "create_oidc_provider" {
  description = "Set to false when this account already has an IAM OIDC provider for the issuer (IAM allows one per URL)."
  type        = bool
  default     = true
}

locals {
  issuer   = ${hcl(facts.issuer)}
  audience = ${hcl(audience)}
  subject  = ${hcl(facts.subject)}
}

resource "aws_iam_openid_connect_provider" "alphaswarm" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = local.issuer
  client_id_list = [local.audience]
}

data "aws_iam_openid_connect_provider" "existing" {
  count = var.create_oidc_provider ? 0 : 1
  url   = local.issuer
}

locals {
  oidc_provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.alphaswarm[0].arn : data.aws_iam_openid_connect_provider.existing[0].arn
}

resource "aws_iam_role" "alphaswarm" {
  name                 = var.role_name
  description          = "Assumed by AlphaSwarm through OIDC web identity federation; read-only."
  max_session_duration = ${ISSUED_SESSION_SECONDS}
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          ${hcl(`${hostPath}:aud`)} = local.audience
          ${hcl(`${hostPath}:sub`)} = local.subject
        }
      }
    }]
  })
}

resource "aws_iam_role_policy" "alphaswarm_read_only" {
  name = "alphaswarm-read-only"
  role = aws_iam_role.alphaswarm.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ReadOnly"
        Effect = "Allow"
        Action = [
${actions}
        ]
        Resource = "*"
      },
      {
        Sid      = "SelfCheck"
        Effect   = "Allow"
        Action   = "iam:SimulatePrincipalPolicy"
        Resource = aws_iam_role.alphaswarm.arn
      },
    ]
  })
}

output "role_arn" {
  value = aws_iam_role.alphaswarm.arn
}
`;
}
