import { describe, expect, it } from 'vitest';
import type { Failure } from './errors';
import { attribute, describe as describeAction, origin, safeValues } from './pending';

const failure = (code: string, field: string | null = null): Failure => ({
  code,
  message: 'no',
  field,
  upstream: 'Hugging Face',
  status: 422,
});

describe('pending actions', () => {
  it('never echo a secret back into a form', () => {
    const hf = {
      type: 'connect',
      org_id: 'acme',
      kind: 'huggingface',
      input: { token: 'hf_x', namespace: 'ns' },
    } as const;
    expect(safeValues(hf)).toEqual({ org_id: 'acme', kind: 'huggingface', namespace: 'ns' });
    const hub = {
      type: 'connect',
      org_id: 'acme',
      kind: 'docker_hub',
      input: { username: 'u', pat: 'dckr_pat_x' },
    } as const;
    expect(safeValues(hub)).toEqual({ org_id: 'acme', kind: 'docker_hub', username: 'u' });
    const cf = safeValues({
      type: 'cloud_step',
      org_id: 'acme',
      kind: 'cloud_cloudflare',
      session_id: 'wiz_1',
      step: 'validate_identity',
      params: { account_id: 'abc', api_token: 'cf_secret', accept_broad_token: true },
    });
    expect(cf).toMatchObject({ account_id: 'abc', accept_broad_token: 'on' });
    expect(JSON.stringify(cf)).not.toContain('cf_secret');
    expect(
      JSON.stringify(
        safeValues({
          type: 'store_import',
          filename: 'f.json',
          content: '{"secret":1}',
          dry_run: true,
          on_conflict: 'fail',
        }),
      ),
    ).not.toContain('secret');
  });

  it('put an upstream verdict next to the field it concerns', () => {
    const hf = { type: 'connect', org_id: 'acme', kind: 'huggingface', input: { token: 't' } } as const;
    expect(attribute(hf, failure('credential_rejected')).field).toBe('token');
    expect(attribute(hf, failure('namespace_denied')).field).toBe('namespace');
    expect(attribute(hf, failure('upstream_unavailable')).field).toBeNull();
    expect(attribute(hf, failure('credential_rejected', 'namespace')).field).toBe('namespace');
    const hub = { type: 'connect', org_id: 'acme', kind: 'docker_hub', input: { username: 'u', pat: 'p' } } as const;
    expect(attribute(hub, failure('credential_rejected')).field).toBe('pat');
    const cf = {
      type: 'cloud_step',
      org_id: 'acme',
      kind: 'cloud_cloudflare',
      session_id: 'w',
      step: 'connect',
    } as const;
    expect(attribute(cf, failure('credential_rejected')).field).toBe('api_token');
    const aws = { ...cf, kind: 'cloud_aws' } as const;
    expect(attribute(aws, failure('credential_rejected')).field).toBeNull();
  });

  it('describe themselves and know where they came from', () => {
    const d = { type: 'disconnect', org_id: 'acme', kind: 'docker_hub' } as const;
    expect(describeAction(d)).toBe('Disconnect Docker Hub from acme');
    expect(origin(d)).toBe('/orgs/acme/disconnect/docker_hub');
    expect(origin({ type: 'connect', org_id: 'acme', kind: 'docker_hub', input: {} })).toBe(
      '/orgs/acme/connect/docker_hub',
    );
    expect(describeAction({ type: 'connect', org_id: 'acme', kind: 'huggingface', input: {} })).toBe(
      'Connect Hugging Face for acme',
    );
    expect(origin({ type: 'cloud_step', org_id: 'a b', kind: 'cloud_aws', session_id: 'wiz_1', step: 'connect' })).toBe(
      '/orgs/a%20b/cloud/cloud_aws?session=wiz_1',
    );
  });
});
