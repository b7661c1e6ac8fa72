import { boundedText, secretText } from '@alphaswarm/contracts';
import { z } from 'zod';

// Starts with a letter or digit, so "." and ".." can never become path segments of a lookup URL.
export const NAMESPACE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * What the operator enters to connect a Docker Hub link. The namespace defaults to the username,
 * so whichever names it must be a user or organization name.
 */
export const DockerHubConnectInput = z
  .object({
    username: boundedText(255, 1),
    pat: secretText(4096),
    namespace: boundedText(255, 1).optional(),
  })
  .superRefine((input, ctx) => {
    const namespace = input.namespace ?? input.username;
    if (NAMESPACE_RE.test(namespace)) return;
    ctx.addIssue({
      code: 'custom',
      path: [input.namespace === undefined ? 'username' : 'namespace'],
      message: `"${namespace.slice(0, 80)}" is not a valid Docker Hub namespace: use the user or organization name (letters, digits, ".", "_", "-").`,
    });
  });
export type DockerHubConnectInput = z.infer<typeof DockerHubConnectInput>;

/** What credentials.issue hands out for a Docker Hub link. */
export const DockerHubIssued = z.object({
  kind: z.literal('docker_hub'),
  username: z.string(),
  pat: z.string(),
  namespace: z.string(),
});

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
