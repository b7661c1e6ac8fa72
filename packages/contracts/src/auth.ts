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
