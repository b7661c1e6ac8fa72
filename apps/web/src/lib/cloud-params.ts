import type { CloudKind } from '@alphaswarm/contracts';

/** One input of step 2, per cloud kind; names match the API's params (and its error `field`). */
export interface ParamField {
  name: string;
  label: string;
  hint?: string;
  type: 'text' | 'password' | 'checkbox' | 'list';
  required: boolean;
}

export const IDENTITY_FIELDS: Record<CloudKind, ParamField[]> = {
  cloud_aws: [
    {
      name: 'role_arn',
      label: 'IAM role ARN',
      hint: 'The role the CloudFormation stack or Terraform created, e.g. arn:aws:iam::123456789012:role/alphaswarm-integration.',
      type: 'text',
      required: true,
    },
    {
      name: 'region',
      label: 'Region',
      hint: 'Optional; defaults to the server’s region.',
      type: 'text',
      required: false,
    },
  ],
  cloud_gcp: [
    {
      name: 'workload_identity_provider',
      label: 'Workload identity provider',
      hint: 'projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
      type: 'text',
      required: true,
    },
    { name: 'service_account_email', label: 'Service account email', type: 'text', required: true },
    { name: 'project_id', label: 'Project id', type: 'text', required: true },
  ],
  cloud_azure: [
    {
      name: 'tenant_id',
      label: 'Tenant id',
      hint: 'The Microsoft Entra directory (tenant) id, a UUID.',
      type: 'text',
      required: true,
    },
    {
      name: 'client_id',
      label: 'Client id',
      hint: 'The application (client) id of the app registration, a UUID.',
      type: 'text',
      required: true,
    },
    {
      name: 'subscription_ids',
      label: 'Subscription ids',
      hint: 'Optional; comma-separated. Empty means every subscription the app can see.',
      type: 'list',
      required: false,
    },
  ],
  cloud_cloudflare: [
    {
      name: 'account_id',
      label: 'Account id',
      hint: 'The 32-character hex id from the dashboard URL.',
      type: 'text',
      required: true,
    },
    {
      name: 'api_token',
      label: 'API token',
      hint: 'Created from the template in step 1. Stored encrypted; never shown again.',
      type: 'password',
      required: true,
    },
    {
      name: 'accept_broad_token',
      label: 'Accept a token broader than the template',
      type: 'checkbox',
      required: false,
    },
  ],
};

/**
 * Params → what the identity inputs show again (a prefill, or a failed attempt put back): never a
 * secret field, lists joined, a checked box as the browser posts it ("on").
 */
export function formValues(
  kind: CloudKind,
  params: Record<string, unknown> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of IDENTITY_FIELDS[kind]) {
    const v = params?.[f.name];
    if (f.type === 'password' || v === undefined || v === null) continue;
    out[f.name] = Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? (v ? 'on' : '') : String(v);
  }
  return out;
}

/** Form fields → the params object step 2 sends (empty optional fields left out). */
export function paramsFrom(kind: CloudKind, form: FormData): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const f of IDENTITY_FIELDS[kind]) {
    const raw = form.get(f.name);
    if (f.type === 'checkbox') {
      if (raw === 'on') params[f.name] = true;
      continue;
    }
    const value = typeof raw === 'string' ? raw.trim() : '';
    if (!value) continue;
    params[f.name] = f.type === 'list' ? value.split(/[\s,]+/).filter(Boolean) : value;
  }
  return params;
}
