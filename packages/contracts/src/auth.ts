import { z } from 'zod';
import { boundedText, secretText } from './text';

/* The sign-in procedures (`auth.*` over tRPC, `/auth/*` over plain HTTP) of the embedded IdP. */

const token = secretText(4096);

export const LoginInput = z.object({
  username: boundedText(256).trim().toLowerCase().min(1).max(64),
  password: boundedText(1024, 1),
});
export type LoginInput = z.infer<typeof LoginInput>;

export const LoginResult = z.object({ mfa_token: z.string(), expires_in: z.number().int() });
export type LoginResult = z.infer<typeof LoginResult>;

/** A recovery code as printed (`xxxx-xxxx-xxxx-xxxx`, base32); spaces, dashes and case do not matter. */
export const RecoveryCode = z
  .string()
  .max(64)
  .transform((c) => c.replace(/[\s-]+/g, '').toUpperCase())
  .pipe(z.string().regex(/^[A-Z2-7]{16}$/, 'A recovery code is the 16 letters and digits printed when it was made.'));

/**
 * Who is stepping up comes from `mfa_token`, else `refresh_token`, else the bearer token. The
 * second factor is a TOTP `code` or, for a lost authenticator, a one-time `recovery_code`.
 */
export const StepUpInput = z
  .object({
    code: z
      .string()
      .max(16)
      .transform((c) => c.replace(/\s+/g, ''))
      .pipe(z.string().regex(/^\d{6}$/, 'The code is the 6 digits your authenticator app shows.'))
      .optional(),
    recovery_code: RecoveryCode.optional(),
    mfa_token: token.optional(),
    refresh_token: token.optional(),
  })
  .refine((i) => (i.code === undefined) !== (i.recovery_code === undefined), {
    message: 'Give either code (from your authenticator app) or recovery_code, not both.',
    path: ['code'],
  });
export type StepUpInput = z.infer<typeof StepUpInput>;

export const RefreshInput = z.object({ refresh_token: token });
export type RefreshInput = z.infer<typeof RefreshInput>;

export const LogoutInput = z.object({ refresh_token: token });
export type LogoutInput = z.infer<typeof LogoutInput>;

export const LogoutResult = z.object({ signed_out: z.literal(true) });
export type LogoutResult = z.infer<typeof LogoutResult>;

export const TokenResult = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  expires_in: z.number().int(),
  token_type: z.literal('Bearer'),
  scope: z.string(),
});
export type TokenResult = z.infer<typeof TokenResult>;

export const MeResult = z.object({
  username: z.string(),
  scopes: z.array(z.string()),
  auth_time: z.number().int().nullable(),
});
export type MeResult = z.infer<typeof MeResult>;

/** The console session making the call, named by the SHA-256 (hex) of its id: it is marked `current`. */
export const ConsoleSessionsInput = z.object({
  current: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the hex SHA-256 of the session id')
    .optional(),
});
export type ConsoleSessionsInput = z.infer<typeof ConsoleSessionsInput>;

/** An admin's console sessions: when and from where, never an id or a token. */
export const ConsoleSessionList = z.object({
  sessions: z.array(
    z.object({
      created_at: z.string(),
      last_seen_at: z.string(),
      expires_at: z.string(),
      address: z.string().nullable(),
      user_agent: z.string().nullable(),
      current: z.boolean(),
    }),
  ),
});
export type ConsoleSessionList = z.infer<typeof ConsoleSessionList>;

export const SignOutEverywhereResult = z.object({
  /** Console sessions ended. */
  console_sessions: z.number().int(),
  /** Embedded-IdP sign-ins (refresh-token families) revoked. */
  refresh_sessions: z.number().int(),
  /** Embedded-IdP access tokens issued before this instant are refused (null for SSO admins). */
  tokens_valid_after: z.string().nullable(),
});
export type SignOutEverywhereResult = z.infer<typeof SignOutEverywhereResult>;
/* Passkeys (WebAuthn) of the embedded IdP's admins, recovery codes and the password. */

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');

/** What `@simplewebauthn/browser` hands back from a ceremony; the IdP verifies every byte of it. */
export const WebAuthnResponse = z.object({
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url.optional(),
    authenticatorData: b64url.optional(),
    signature: b64url.optional(),
    userHandle: b64url.optional(),
    transports: z.array(z.string().max(32)).max(8).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});
export type WebAuthnResponse = z.infer<typeof WebAuthnResponse>;

/** Options for `startRegistration` / `startAuthentication`, and the challenge to answer with them. */
export const PasskeyOptionsResult = z.object({
  challenge_id: z.string(),
  options: z.record(z.string(), z.unknown()),
});
export type PasskeyOptionsResult = z.infer<typeof PasskeyOptionsResult>;

const challengeId = z.string().regex(/^wch_[0-9a-f]{32}$/, 'not a challenge id from this server');

/** `sign_in`: username-less (any of the admins' discoverable passkeys); `step_up`: the caller's own. */
export const PasskeyOptionsInput = z.object({
  purpose: z.enum(['sign_in', 'step_up']),
  refresh_token: token.optional(),
});
export type PasskeyOptionsInput = z.infer<typeof PasskeyOptionsInput>;

export const PasskeyAuthInput = z.object({
  challenge_id: challengeId,
  response: WebAuthnResponse,
  refresh_token: token.optional(),
});
export type PasskeyAuthInput = z.infer<typeof PasskeyAuthInput>;

export const PasskeyRegisterInput = z.object({
  challenge_id: challengeId,
  name: boundedText(64).trim().min(1, 'Give the passkey a name (e.g. "YubiKey" or "Laptop").'),
  response: WebAuthnResponse,
});
export type PasskeyRegisterInput = z.infer<typeof PasskeyRegisterInput>;

export const Passkey = z.object({
  id: z.string(),
  name: z.string(),
  /** RFC 8176: `hwk` device-bound key, `swk` synced (backed-up) passkey. */
  amr: z.enum(['hwk', 'swk']),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
export type Passkey = z.infer<typeof Passkey>;

export const PasskeyRemoveInput = z.object({ id: b64url.min(1).max(1024) });
export type PasskeyRemoveInput = z.infer<typeof PasskeyRemoveInput>;

export const AccountResult = z.object({
  username: z.string(),
  passkeys: z.array(Passkey),
  recovery_codes_left: z.number().int(),
});
export type AccountResult = z.infer<typeof AccountResult>;

export const RecoveryCodesResult = z.object({ codes: z.array(z.string()) });
export type RecoveryCodesResult = z.infer<typeof RecoveryCodesResult>;

export const ChangePasswordInput = z.object({ new_password: boundedText(1024, 1) });
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;
