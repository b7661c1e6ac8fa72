import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '@alphaswarm/api';
import type { PasskeyOptionsResult, WebAuthnResponse } from '@alphaswarm/contracts';
import type { PasskeyRow } from '@alphaswarm/db';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

/** A ceremony's challenge lives this long (the browser prompt's timeout is a little shorter). */
export const CHALLENGE_TTL = 300;
const PROMPT_TIMEOUT_MS = 240_000;
export const RP_NAME = 'AlphaSwarm Admin';

export interface WebAuthnSettings {
  rpId: string;
  origin: string;
}

/** Options as JSON for `@simplewebauthn/browser`, with the challenge the server keeps. */
type Options = PasskeyOptionsResult['options'] & { challenge: string };

export function newChallengeId(): string {
  return `wch_${randomBytes(16).toString('hex')}`;
}

/**
 * The user handle stored in a discoverable passkey: a hash of the username, so the authenticator
 * holds no personal data beyond the name it shows; sign-in looks the credential up by its id.
 */
function userHandle(username: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`alphaswarm-admin/user\0${username}`).digest());
}

/**
 * `hwk` for a device-bound key (a security key, a non-synced platform key), `swk` for a passkey
 * the authenticator may back up and sync (its private key leaves the device), as the WebAuthn
 * backup-eligibility flag says. The attachment (platform or cross-platform) says where the key is,
 * not whether it can be copied, so it is not used.
 */
export function amrOf(deviceType: string): 'hwk' | 'swk' {
  return deviceType === 'multiDevice' ? 'swk' : 'hwk';
}

function transports(row: Pick<PasskeyRow, 'transports'>): AuthenticatorTransport[] {
  return row.transports as AuthenticatorTransport[];
}

export async function registrationOptions(
  settings: WebAuthnSettings,
  username: string,
  existing: PasskeyRow[],
): Promise<Options> {
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: settings.rpId,
    userName: username,
    userID: userHandle(username),
    timeout: PROMPT_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: transports(p) })),
    // Discoverable, so sign-in needs no username; verified, so the passkey alone is two factors.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  return options as unknown as Options;
}

export async function authenticationOptions(settings: WebAuthnSettings, allowed: PasskeyRow[]): Promise<Options> {
  const options = await generateAuthenticationOptions({
    rpID: settings.rpId,
    timeout: PROMPT_TIMEOUT_MS,
    userVerification: 'required',
    allowCredentials: allowed.map((p) => ({ id: p.id, transports: transports(p) })),
  });
  return options as unknown as Options;
}

/** Why the library refused a response, as a stable reason for the audit (never its bytes). */
export type Refusal = 'counter' | 'rp_id' | 'origin' | 'challenge' | 'user_verification' | 'invalid';

function refusalOf(error: unknown): Refusal {
  const message = error instanceof Error ? error.message : '';
  if (/counter/i.test(message)) return 'counter';
  if (/RP ID/i.test(message)) return 'rp_id';
  if (/origin/i.test(message)) return 'origin';
  if (/challenge/i.test(message)) return 'challenge';
  if (/user.*verif/i.test(message)) return 'user_verification';
  return 'invalid';
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: Refusal };

/** What every ceremony must show: our challenge, our origin and RP ID, and a verified user. */
function expected(settings: WebAuthnSettings, challenge: string) {
  return {
    expectedChallenge: challenge,
    expectedOrigin: settings.origin,
    expectedRPID: settings.rpId,
    requireUserVerification: true,
  };
}

/** A ceremony's verdict: what a verified response yields, or why it was refused (thrown or unverified). */
async function checked<R extends { verified: boolean }, T>(
  verify: () => Promise<R>,
  value: (result: R & { verified: true }) => T,
): Promise<Checked<T>> {
  try {
    const result = await verify();
    if (!result.verified) return { ok: false, reason: 'invalid' };
    return { ok: true, value: value(result as R & { verified: true }) };
  } catch (error) {
    return { ok: false, reason: refusalOf(error) };
  }
}

export interface NewCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

export async function checkRegistration(
  settings: WebAuthnSettings,
  response: WebAuthnResponse,
  challenge: string,
): Promise<Checked<NewCredential>> {
  return checked(
    () =>
      verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        ...expected(settings, challenge),
      }),
    ({ registrationInfo: info }) => ({
      id: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    }),
  );
}

export interface Assertion {
  counter: number;
  backedUp: boolean;
}

/**
 * Verify a sign-in assertion against the stored credential. The library refuses a signature
 * counter that did not grow (when the authenticator keeps one): a cloned authenticator.
 */
export async function checkAssertion(
  settings: WebAuthnSettings,
  response: WebAuthnResponse,
  challenge: string,
  stored: PasskeyRow,
): Promise<Checked<Assertion>> {
  return checked(
    () =>
      verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        ...expected(settings, challenge),
        credential: {
          id: stored.id,
          publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
          counter: stored.counter,
          transports: transports(stored),
        },
      }),
    ({ authenticationInfo: info }) => ({ counter: info.newCounter, backedUp: info.credentialBackedUp }),
  );
}

export function passkeysUnavailable(): AppError {
  return new AppError(
    'not_found',
    'Passkeys are not available: the console is reached by an IP address. Set ALPHASWARM_ADMIN_CONSOLE_URL to its host name (and ALPHASWARM_ADMIN_WEBAUTHN_RP_ID if needed).',
  );
}
