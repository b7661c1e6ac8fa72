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
    expect(safeValues({ type: 'connect_huggingface', org_id: 'acme', token: 'hf_x', namespace: 'ns' })).toEqual({
      org_id: 'acme',
      namespace: 'ns',
    });
    expect(safeValues({ type: 'connect_docker_hub', org_id: 'acme', username: 'u', pat: 'dckr_pat_x' })).toEqual({
      org_id: 'acme',
      username: 'u',
    });
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
    const hf = { type: 'connect_huggingface', org_id: 'acme', token: 't' } as const;
    expect(attribute(hf, failure('credential_rejected')).field).toBe('token');
    expect(attribute(hf, failure('namespace_denied')).field).toBe('namespace');
    expect(attribute(hf, failure('upstream_unavailable')).field).toBeNull();
    expect(attribute(hf, failure('credential_rejected', 'namespace')).field).toBe('namespace');
    const hub = { type: 'connect_docker_hub', org_id: 'acme', username: 'u', pat: 'p' } as const;
    expect(attribute(hub, failure('credential_rejected')).field).toBe('pat');
  });

  it('describe themselves and know where they came from', () => {
    const d = { type: 'disconnect', org_id: 'acme', kind: 'docker_hub' } as const;
    expect(describeAction(d)).toBe('Disconnect Docker Hub from acme');
    expect(origin(d)).toBe('/orgs/acme/disconnect/docker_hub');
    expect(origin({ type: 'cloud_step', org_id: 'a b', kind: 'cloud_aws', session_id: 'wiz_1', step: 'connect' })).toBe(
      '/orgs/a%20b/cloud/cloud_aws?session=wiz_1',
    );
  });
});
