import { z } from 'zod';

/* The parts of Docker Hub's API bodies we read (upstreams.md §2). Unknown keys are stripped. */

const Jwt = z.string().min(1).max(16_384);

/** `POST /v2/auth/token` → 200 */
export const AuthTokenResponse = z.object({ access_token: Jwt });
/** `POST /v2/users/login` → 200 */
export const UsersLoginResponse = z.object({ token: Jwt, refresh_token: z.string().optional() });

/** Login 401s (`{detail}`, 2FA adds `login_2fa_token`) and the general `{detail, message, errinfo}` error. */
export const DockerErrorBody = z.object({
  detail: z.string().optional(),
  message: z.string().optional(),
  login_2fa_token: z.string().optional(),
});

export const TWO_FACTOR_DETAIL = 'Require secondary authentication on MFA enabled account';

/** `GET /v2/users/{username}/` */
export const UserProfile = z.object({
  username: z.string().min(1).max(255),
  full_name: z.string().max(512).nullish(),
  type: z.enum(['User', 'Org']).optional(),
});

/** `GET /v2/orgs/{org}` */
export const OrgProfile = z.object({
  orgname: z.string().min(1).max(255),
  full_name: z.string().max(512).nullish(),
});

/** `GET /v2/user/orgs/` — Django paging. */
export const UserOrgsPage = z.object({
  count: z.number().int().nonnegative().optional(),
  next: z.string().max(2048).nullable(),
  previous: z.string().max(2048).nullable().optional(),
  results: z.array(z.object({ orgname: z.string().min(1).max(255) })).max(1000),
});

/** Link metadata for a `docker_hub` link: public, never secret. */
export const DockerHubLinkMetadata = z.object({
  username: z.string(),
  namespace_type: z.enum(['user', 'org']),
  full_name: z.string().nullable().optional(),
  /** Docker Hub's login answers do not say when a PAT expires, so this stays null. */
  token_expires_at: z.string().nullable().optional(),
});
export type DockerHubLinkMetadata = z.infer<typeof DockerHubLinkMetadata>;
