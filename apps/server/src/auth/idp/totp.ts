import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30 s steps. */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** One step either side, for clock drift between phone and server. */
const TOLERANCE_SECONDS = TOTP_PERIOD;
export const TOTP_ISSUER = 'AlphaSwarm Admin';

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(username: string, secret: string, issuer = TOTP_ISSUER): string {
  return generateURI({ issuer, label: username, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD });
}

export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD);
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'wrong' | 'replayed' };

/**
 * Check `code` within ±1 step of `now`. A code of a step at or before `lastStep` is a replay.
 * otplib compares in constant time; the caller still has to claim the step atomically.
 */
export async function checkTotp(secret: string, code: string, now: Date, lastStep: number): Promise<TotpCheck> {
  const result = await verify({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  if (!result.valid) return { ok: false, reason: 'wrong' };
  const step = totpStep(now) + result.delta;
  if (step <= lastStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step };
}
