import { INTEGRATION_KINDS, isSecretBearing, REVOCATION_GUIDANCE } from '@alphaswarm/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { descriptors } from './descriptors';
import { kinds } from './kinds';
import { providers } from './registry';

describe('descriptors', () => {
  it.each(INTEGRATION_KINDS)('%s: one descriptor, shared by its provider and the browser-safe facts', (kind) => {
    const descriptor = descriptors[kind];
    expect(descriptor.kind).toBe(kind);
    expect(providers[kind].descriptor).toBe(descriptor);
    expect(providers[kind].family).toBe(descriptor.family);
    const { secretSchema: _s, inputSchema: _i, ...facts } = descriptor;
    expect(facts).toEqual(kinds[kind]);
  });

  it.each(INTEGRATION_KINDS)(
    '%s: secret-bearing exactly when it has a secret schema, its secret params are string inputs',
    (kind) => {
      const d = descriptors[kind];
      expect(d.secretBearing).toBe(isSecretBearing(kind));
      expect(d.secretBearing).toBe(d.secretSchema !== null);
      const shape = (d.inputSchema as z.ZodObject).shape;
      for (const param of d.secretParams) expect(shape[param]).toBeInstanceOf(z.ZodString);
      expect(d.secretParams.length > 0).toBe(d.secretBearing);
    },
  );

  it('carries the revocation guidance contracts still holds for the console (until it reads descriptors)', () => {
    for (const kind of INTEGRATION_KINDS) expect(descriptors[kind].revocationGuidance).toBe(REVOCATION_GUIDANCE[kind]);
  });

  it('spells each upstream one way, walks the cloud wizard in five steps and a PAT form in one', () => {
    expect(Object.fromEntries(INTEGRATION_KINDS.map((k) => [k, descriptors[k].label]))).toEqual({
      huggingface: 'Hugging Face',
      docker_hub: 'Docker Hub',
      cloud_aws: 'AWS',
      cloud_azure: 'Azure',
      cloud_gcp: 'Google Cloud',
      cloud_cloudflare: 'Cloudflare',
    });
    expect(descriptors.cloud_gcp.wizard).toEqual([
      'bootstrap_artifacts',
      'validate_identity',
      'validate_permissions',
      'enumerate_resources',
      'connect',
    ]);
    expect(descriptors.docker_hub.wizard).toEqual(['connect']);
  });

  it('reads each kind’s expiry from the metadata field it writes, as RFC 3339 UTC; federated kinds never expire', () => {
    const at = '2026-06-06T12:00:00.000Z';
    expect(descriptors.huggingface.expiresAt({ expires_at: at })).toBe('2026-06-06T12:00:00Z');
    expect(descriptors.docker_hub.expiresAt({ token_expires_at: '2026-06-06T14:00:00+02:00' })).toBe(
      '2026-06-06T12:00:00Z',
    );
    expect(descriptors.cloud_cloudflare.expiresAt({ expires_on: at })).toBe('2026-06-06T12:00:00Z');
    // Another kind's field, a null, or a non-date is not an expiry.
    expect(descriptors.cloud_cloudflare.expiresAt({ expires_at: at })).toBeNull();
    expect(descriptors.docker_hub.expiresAt({ token_expires_at: null })).toBeNull();
    expect(descriptors.huggingface.expiresAt({ expires_at: 'soon' })).toBeNull();
    for (const kind of ['cloud_aws', 'cloud_azure', 'cloud_gcp'] as const) {
      expect(descriptors[kind].expiresAt({ expires_at: at, expires_on: at, token_expires_at: at })).toBeNull();
    }
  });

  it('builds the workload subject org:<org>:<kind>', () => {
    expect(descriptors.cloud_azure.subject('org-acme')).toBe('org:org-acme:cloud_azure');
    expect(kinds.cloud_aws.subject('org-acme')).toBe('org:org-acme:cloud_aws');
  });
});
