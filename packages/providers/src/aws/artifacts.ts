import { hcl, shellQuote } from '../shared/text';
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

export const AWS_TEMPLATE_FILE = 'alphaswarm-aws-role.json';

/**
 * The AWS CLI route to the same stack, for admins who prefer a terminal to the console: `deploy`
 * (idempotent, the default) or `create-stack`, then the role ARN to paste back.
 */
export function awsDeployScript(input: {
  region: string;
  stackName: string;
  subject: string;
  roleName: string;
}): string {
  const region = shellQuote(input.region);
  const stack = shellQuote(input.stackName);
  return `#!/usr/bin/env bash
# Creates the AlphaSwarm read-only role from ${AWS_TEMPLATE_FILE} (next to this script) with the AWS CLI v2.
# Usage: bash alphaswarm-aws-deploy.sh [deploy|create-stack]   (deploy is the default and can be re-run)
# Run as someone who may create IAM roles and OIDC providers in the account.
set -euo pipefail

REGION=${region}
STACK_NAME=${stack}
SUBJECT=${shellQuote(input.subject)}
ROLE_NAME=${shellQuote(input.roleName)}
TEMPLATE=${shellQuote(AWS_TEMPLATE_FILE)}

case "\${1:-deploy}" in
  deploy)
    aws cloudformation deploy \
      --region "$REGION" \
      --stack-name "$STACK_NAME" \
      --template-file "$TEMPLATE" \
      --capabilities CAPABILITY_NAMED_IAM \
      --parameter-overrides "Subject=$SUBJECT" "RoleName=$ROLE_NAME"
    ;;
  create-stack)
    aws cloudformation create-stack \
      --region "$REGION" \
      --stack-name "$STACK_NAME" \
      --template-body "file://$TEMPLATE" \
      --capabilities CAPABILITY_NAMED_IAM \
      --parameters "ParameterKey=Subject,ParameterValue=$SUBJECT" "ParameterKey=RoleName,ParameterValue=$ROLE_NAME"
    aws cloudformation wait stack-create-complete --region "$REGION" --stack-name "$STACK_NAME"
    ;;
  *)
    echo "usage: $0 [deploy|create-stack]" >&2
    exit 2
    ;;
esac

echo "Paste this role ARN into AlphaSwarm:"
aws cloudformation describe-stacks \
  --region "$REGION" \
  --stack-name "$STACK_NAME" \
  --query "Stacks[0].Outputs[?OutputKey=='RoleArn'].OutputValue" \
  --output text
`;
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
