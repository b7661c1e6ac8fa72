import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import type { Principal } from './bearer';
import { adminOrgs, assertRequirement, MFA_METHODS, type RequirementOptions, serviceBinding } from './requirements';

/*
 * What each kind of procedure asks of its caller, decided on the verified claims alone: reads,
 * step-up mutations (admin:cluster + a fresh MFA, RFC 9470) and service calls (the one path by which
 * plaintext credentials leave: integrations:use, platform-wide or for one org).
 */

const NOW = new Date('2031-01-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const OPTS: RequirementOptions = { maxAge: 600, now: NOW };

function principal(scopes: string[], amr: string[] = [], authTime: number | null = null): Principal {
  const grants = Object.fromEntries(scopes.map((s) => [s, 'token scope']));
  return { sub: 'alice', iss: 'https://idp.test', actor: 'alice', scopes, grants, amr, authTime, claims: {} };
}

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

const fresh = (scopes = ['admin:cluster'], amr = ['pwd', 'otp']) => principal(scopes, amr, NOW_S - 10);

describe('reads', () => {
  it('admin:cluster or admin:read is enough; no MFA needed', () => {
    expect(() => assertRequirement(principal(['admin:cluster']), 'read', OPTS)).not.toThrow();
    expect(() => assertRequirement(principal(['admin:read']), 'read', OPTS)).not.toThrow();
  });

  it('any other scope is refused with insufficient_scope naming admin:cluster, whatever org the call names', () => {
    for (const [scopes, orgId] of [
      [[], undefined],
      [['integrations:use'], 'org-a'],
      [['admin:cluster:x', 'admin'], 'org-a'],
    ] as const) {
      const error = refusal(() => assertRequirement(principal([...scopes]), 'read', { ...OPTS, orgId }));
      expect(error.code).toBe('insufficient_scope');
      expect(error.status).toBe(403);
      expect(error.message).toBe('This call needs the "admin:cluster" scope.');
      expect(error.extra.headers).toEqual({
        'www-authenticate': 'Bearer error="insufficient_scope", scope="admin:cluster"',
      });
    }
  });
});

describe('step-up mutations', () => {
  it('admin:cluster with an MFA method authenticated within max_age passes, up to max_age exactly', () => {
    expect(() => assertRequirement(fresh(), 'step_up', OPTS)).not.toThrow();
    const edge = principal(['admin:cluster'], ['mfa'], NOW_S - 600);
    expect(() => assertRequirement(edge, 'step_up', OPTS)).not.toThrow();
  });

  it('every MFA method of RFC 8176 counts, and only those', () => {
    expect(MFA_METHODS).toEqual(['mfa', 'otp', 'hwk', 'swk']);
    for (const m of MFA_METHODS)
      expect(() => assertRequirement(fresh(['admin:cluster'], [m]), 'step_up', OPTS)).not.toThrow();
    for (const m of ['pwd', 'kba', 'sms-ish', '']) {
      expect(refusal(() => assertRequirement(fresh(['admin:cluster'], [m]), 'step_up', OPTS)).code).toBe(
        'insufficient_user_authentication',
      );
    }
  });

  it('admin:read cannot mutate, however fresh its MFA', () => {
    const error = refusal(() => assertRequirement(fresh(['admin:read']), 'step_up', OPTS));
    expect(error.code).toBe('insufficient_scope');
    expect(error.message).toContain('"admin:cluster"');
  });

  it('without MFA: an RFC 9470 challenge saying MFA is needed, with max_age', () => {
    const error = refusal(() => assertRequirement(principal(['admin:cluster'], ['pwd'], NOW_S), 'step_up', OPTS));
    expect(error.code).toBe('insufficient_user_authentication');
    expect(error.status).toBe(401);
    expect(error.message).toBe('This action needs multi-factor authentication; step up and retry.');
    expect(error.extra.headers).toEqual({
      'www-authenticate':
        'Bearer error="insufficient_user_authentication", error_description="This action needs multi-factor authentication", max_age=600',
    });
  });

  it('MFA in amr but no auth_time is not fresh: a challenge naming max_age', () => {
    const error = refusal(() => assertRequirement(principal(['admin:cluster'], ['otp'], null), 'step_up', OPTS));
    expect(error.code).toBe('insufficient_user_authentication');
    expect(error.message).toBe('This action needs an authentication less than 600 seconds old; step up and retry.');
    expect(error.extra.headers?.['www-authenticate']).toBe(
      'Bearer error="insufficient_user_authentication", error_description="This action needs an authentication less than 600 seconds old", max_age=600',
    );
  });

  it('an MFA older than max_age is refused the same way', () => {
    const stale = principal(['admin:cluster'], ['otp'], NOW_S - 601);
    expect(refusal(() => assertRequirement(stale, 'step_up', OPTS)).message).toMatch(/less than 600 seconds old/);
    expect(() => assertRequirement(stale, 'step_up', { ...OPTS, maxAge: 601 })).not.toThrow();
  });
});

describe('service calls (credentials.issue)', () => {
  const service = (scopes: string[], orgId: string | null, platformServiceScope?: boolean) =>
    assertRequirement(principal(scopes), 'service', {
      ...OPTS,
      orgId,
      ...(platformServiceScope === undefined ? {} : { platformServiceScope }),
    });

  it('integrations:use acts for every org while the platform scope is honoured (the default)', () => {
    expect(() => service(['integrations:use'], 'org-a')).not.toThrow();
    expect(() => service(['integrations:use'], 'org-a', true)).not.toThrow();
  });

  it('admin scopes never reveal credentials, not even admin:cluster with a fresh MFA', () => {
    for (const scopes of [['admin:read'], ['admin:cluster'], ['admin:cluster', 'admin:read']]) {
      const error = refusal(() => service(scopes, 'org-a'));
      expect(error.code).toBe('insufficient_scope');
      expect(error.message).toBe('This call needs the "integrations:use" scope.');
      expect(error.extra.headers?.['www-authenticate']).toBe(
        'Bearer error="insufficient_scope", scope="integrations:use"',
      );
    }
    expect(() => assertRequirement(fresh(), 'service', { ...OPTS, orgId: 'org-a' })).toThrow(AppError);
  });

  it('an org scope acts for its org only; another org is not found, not forbidden', () => {
    expect(() => service(['integrations:use:org:org-a'], 'org-a', false)).not.toThrow();
    const other = refusal(() => service(['integrations:use:org:org-a'], 'org-b'));
    expect(other.code).toBe('not_found');
    expect(other.message).toBe('Nothing of org org-b is available to this service.');
    // Holding another scope besides does not make it any less bound to its org.
    const mixed = refusal(() => service(['admin:read', 'integrations:use:org:org-a'], 'org-b'));
    expect(mixed.code).toBe('not_found');
  });

  it('with the platform scope turned off, plain integrations:use is refused, naming the org scope it needs', () => {
    const error = refusal(() => service(['integrations:use'], 'org-a', false));
    expect(error.code).toBe('insufficient_scope');
    expect(error.message).toBe('This call needs the "integrations:use:org:org-a" scope.');
    expect(refusal(() => service([], null, false)).message).toBe(
      'This call needs the "integrations:use:org:<org_id>" scope.',
    );
  });

  it('an org-bound service without an org in its input gets insufficient_scope, not a guess', () => {
    expect(refusal(() => service(['integrations:use:org:org-a'], null)).code).toBe('insufficient_scope');
  });

  it('serviceBinding says which scope allowed the call: the org one first, then the platform one', () => {
    const both = principal(['integrations:use', 'integrations:use:org:org-a']);
    expect(serviceBinding(both, 'org-a', true)).toBe('org');
    expect(serviceBinding(both, 'org-b', true)).toBe('platform');
    expect(serviceBinding(both, 'org-b', false)).toBeNull();
    expect(serviceBinding(both, null, true)).toBe('platform');
    expect(serviceBinding(principal(['integrations:use:org:']), '', true)).toBeNull();
  });
});

describe('what allowed an admin call (the audit names it)', () => {
  const withGrants = (scopes: string[], grants: Record<string, string>, authTime: number | null = null) => ({
    ...principal(scopes, ['otp'], authTime),
    grants,
  });

  it('admin:cluster reaches every org, named with where it came from; it outranks admin:read', () => {
    const p = withGrants(['admin:read', 'admin:cluster'], { 'admin:cluster': 'groups:platform-admins' });
    expect(assertRequirement(p, 'read', OPTS)).toEqual({
      role: 'admin:cluster',
      via: 'groups:platform-admins',
      orgs: null,
    });
    expect(assertRequirement(fresh(), 'step_up', OPTS)).toEqual({
      role: 'admin:cluster',
      via: 'token scope',
      orgs: null,
    });
  });

  it('admin:read reaches every org for reads; a scope with no recorded source is a token scope', () => {
    expect(assertRequirement(withGrants(['admin:read'], {}), 'read', OPTS)).toEqual({
      role: 'admin:read',
      via: 'token scope',
      orgs: null,
    });
  });

  it('a service call allows no admin access at all', () => {
    expect(assertRequirement(principal(['integrations:use']), 'service', { ...OPTS, orgId: 'org-a' })).toBeNull();
  });
});

describe('org admins (admin:org:<org_id>)', () => {
  const orgAdmin = (orgs: string[], authTime: number | null = null, grants: Record<string, string> = {}) => ({
    ...principal(
      orgs.map((o) => `admin:org:${o}`),
      ['otp'],
      authTime,
    ),
    grants,
  });

  it('read and mutate their own org, with a fresh MFA for mutations like everyone else', () => {
    const p = orgAdmin(['org-a', 'org-b'], NOW_S - 10, { 'admin:org:org-a': 'groups:acme' });
    expect(assertRequirement(p, 'read', { ...OPTS, orgId: 'org-a' })).toEqual({
      role: 'admin:org:org-a',
      via: 'groups:acme',
      orgs: ['org-a', 'org-b'],
    });
    expect(assertRequirement(p, 'step_up', { ...OPTS, orgId: 'org-b' })).toEqual({
      role: 'admin:org:org-b',
      via: 'token scope',
      orgs: ['org-a', 'org-b'],
    });
    const stale = refusal(() => assertRequirement(orgAdmin(['org-a']), 'step_up', { ...OPTS, orgId: 'org-a' }));
    expect(stale.code).toBe('insufficient_user_authentication');
  });

  it('another org does not exist for them: not found, for reads and mutations alike', () => {
    for (const requirement of ['read', 'step_up'] as const) {
      const error = refusal(() =>
        assertRequirement(orgAdmin(['org-a'], NOW_S - 10), requirement, { ...OPTS, orgId: 'org-b' }),
      );
      expect(error.code).toBe('not_found');
      expect(error.message).toBe('Nothing of org org-b is available to you.');
    }
  });

  it('a call that names no org needs admin:cluster', () => {
    for (const orgId of [null, undefined, '']) {
      const error = refusal(() => assertRequirement(orgAdmin(['org-a']), 'read', { ...OPTS, orgId }));
      expect(error.code).toBe('insufficient_scope');
      expect(error.message).toBe('This call needs the "admin:cluster" scope.');
    }
  });

  it('lists across orgs and calls about the caller reach their orgs only, named by the one org or admin:org:*', () => {
    for (const reach of ['filtered', 'none'] as const) {
      const one = orgAdmin(['org-a'], null, { 'admin:org:org-a': 'groups:acme' });
      expect(assertRequirement(one, 'read', { ...OPTS, reach })).toEqual({
        role: 'admin:org:org-a',
        via: 'groups:acme',
        orgs: ['org-a'],
      });
      expect(assertRequirement(orgAdmin(['org-a', 'org-b']), 'read', { ...OPTS, reach })).toEqual({
        role: 'admin:org:*',
        via: 'token scope',
        orgs: ['org-a', 'org-b'],
      });
    }
    expect(adminOrgs(principal(['admin:read', 'admin:org:org-a', 'integrations:use:org:org-b']))).toEqual(['org-a']);
  });
});
