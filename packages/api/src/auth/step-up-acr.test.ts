import { describe, expect, it } from 'vitest';
import { type AppError, toAppError } from '../errors';
import type { Principal } from './bearer';
import { assertRequirement } from './requirements';

const NOW = new Date('2026-11-30T08:00:00Z');
const fresh = Math.floor(NOW.getTime() / 1000) - 10;

function principal(claims: Partial<Principal> & { acr?: string }): Principal {
  const { acr, ...rest } = claims;
  return {
    sub: 'alice',
    iss: 'https://idp.test',
    actor: 'alice',
    scopes: ['admin:cluster'],
    grants: { 'admin:cluster': 'token scope' },
    amr: ['pwd', 'otp'],
    authTime: fresh,
    claims: acr ? { acr } : {},
    ...rest,
  };
}

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return toAppError(error);
  }
  throw new Error('expected a refusal');
}

describe('step-up level (ALPHASWARM_ADMIN_STEP_UP_ACR / _STEP_UP_REQUIRE_PHR)', () => {
  it('refuses a TOTP step-up when phr is required, with the RFC 9470 challenge naming acr_values="phr"', () => {
    const opts = { maxAge: 600, now: NOW, acr: ['phr'] };
    const e = refusal(() => assertRequirement(principal({}), 'step_up', opts));
    expect(e.code).toBe('insufficient_user_authentication');
    expect(e.extra.headers?.['www-authenticate']).toBe(
      'Bearer error="insufficient_user_authentication", error_description="This action needs a sign-in at level phr (acr)", acr_values="phr", max_age=600',
    );
    expect(() => assertRequirement(principal({ amr: ['hwk', 'user'], acr: 'phr' }), 'step_up', opts)).not.toThrow();
    // A stale phr sign-in still has to step up, and is told which level to ask for.
    const stale = refusal(() => assertRequirement(principal({ acr: 'phr', authTime: fresh - 3600 }), 'step_up', opts));
    expect(stale.extra.headers?.['www-authenticate']).toMatch(/acr_values="phr", max_age=600$/);
    // Reads never ask for a level.
    expect(() => assertRequirement(principal({}), 'read', opts)).not.toThrow();
    // Without a level configured, any MFA will do.
    expect(() => assertRequirement(principal({}), 'step_up', { maxAge: 600, now: NOW })).not.toThrow();
  });
});

describe('step-up level: several accepted levels', () => {
  const opts = { maxAge: 600, now: NOW, acr: ['phr', 'phrh'] };

  it('any one of them will do; the challenge names them all', () => {
    expect(() => assertRequirement(principal({ acr: 'phrh' }), 'step_up', opts)).not.toThrow();
    const e = refusal(() => assertRequirement(principal({ acr: 'mfa' }), 'step_up', opts));
    expect(e.message).toBe('This action needs a sign-in at level phr or phrh (acr); step up and retry.');
    expect(e.extra.headers?.['www-authenticate']).toBe(
      'Bearer error="insufficient_user_authentication", error_description="This action needs a sign-in at level phr or phrh (acr)", acr_values="phr phrh", max_age=600',
    );
  });

  it('an acr claim that is not a string meets no level', () => {
    const listed = { ...principal({}), claims: { acr: ['phr'] } };
    expect(refusal(() => assertRequirement(listed, 'step_up', opts)).code).toBe('insufficient_user_authentication');
  });

  it('without MFA the challenge asks for MFA first, whatever the level', () => {
    const e = refusal(() => assertRequirement(principal({ amr: ['pwd'], acr: 'phr' }), 'step_up', opts));
    expect(e.message).toBe('This action needs multi-factor authentication; step up and retry.');
  });
});
