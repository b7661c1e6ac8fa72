import { expiryState, inDays } from '@alphaswarm/contracts/kinds';
import type { Warning } from '../types';
import { templateExpiry } from './artifacts';
import { NEW_TOKEN_HINT } from './errors';
import type { VerifyResult } from './schemas';

/*
 * The lifetime we accept for a stored Cloudflare token (it is the one credential we keep that
 * could otherwise live for ever), and the shared expiry warning worded for it.
 */

const DAY_MS = 86_400_000;

function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Our rules for a token we store: active, not yet expired, and expiring no later than
 * now + maxTtlDays. Returns what to change, or null when the token is acceptable.
 */
export function expiryProblem(
  token: Pick<VerifyResult, 'status' | 'expires_on'> & { not_before?: string | null },
  now: Date,
  maxTtlDays: number,
): { code: 'credential_rejected' | 'invalid_request'; message: string } | null {
  if (token.status !== 'active') {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token is ${token.status}. ${token.status === 'disabled' ? 'Re-enable it in the dashboard, or create' : 'Create'} a new account API token and connect with it.`,
    };
  }
  const latest = templateExpiry(now, maxTtlDays);
  if (!token.expires_on) {
    return {
      code: 'invalid_request',
      message: `The Cloudflare API token has no expiry. Set its TTL end date to ${day(latest)} or earlier (at most ${maxTtlDays} days ahead), or create a new token with one, then check again.`,
    };
  }
  const expires = Date.parse(token.expires_on);
  if (expires <= now.getTime()) {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token expired on ${token.expires_on}. ${NEW_TOKEN_HINT}`,
    };
  }
  if (expires > now.getTime() + maxTtlDays * DAY_MS) {
    return {
      code: 'invalid_request',
      message: `The Cloudflare API token expires on ${day(token.expires_on)}, more than ${maxTtlDays} days ahead. Set its TTL end date to ${day(latest)} or earlier, then check again.`,
    };
  }
  if (token.not_before && Date.parse(token.not_before) > now.getTime()) {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token is not valid before ${token.not_before}. Remove the start date or wait until then.`,
    };
  }
  return null;
}

export function expiryWarning(expiresOn: string | null, now: Date): Warning | null {
  const expiry = expiryState(expiresOn, now);
  if (expiry.state !== 'expiring' && expiry.state !== 'expired') return null;
  return {
    code: 'credential_expiring',
    message: `The Cloudflare API token expires on ${day(expiresOn ?? '')} (${inDays(expiry.state === 'expiring' ? expiry.daysLeft : 0)}). Rotate it, or create a new token and reconnect before then.`,
  };
}
