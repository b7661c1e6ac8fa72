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

/** Who is stepping up comes from `mfa_token`, else `refresh_token`, else the bearer token. */
export const StepUpInput = z.object({
  code: z
    .string()
    .max(16)
    .transform((c) => c.replace(/\s+/g, ''))
    .pipe(z.string().regex(/^\d{6}$/, 'The code is the 6 digits your authenticator app shows.')),
  mfa_token: token.optional(),
  refresh_token: token.optional(),
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
