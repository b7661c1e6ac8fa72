export { authRoutes } from './http';
export { hashPassword, passwordProblem, verifyPassword } from './password';
export * from './schemas';
export {
  BAD_CREDENTIALS,
  EmbeddedIdp,
  embeddedIdp,
  IP_FAILURE_LIMIT,
  IP_WINDOW_SECONDS,
  LOCKOUT_ATTEMPTS,
  LOCKOUT_SECONDS,
} from './service';
export {
  ACCESS_TOKEN_TTL,
  MFA_AUDIENCE,
  MFA_TOKEN_TTL,
  REFRESH_AUDIENCE,
  REFRESH_TOKEN_TTL,
  type TokenSet,
} from './tokens';
export { newTotpSecret, otpauthUri, TOTP_ISSUER } from './totp';
export { createAdminUser, type Enrolment, resetAdminMfa, setAdminDisabled } from './users';
