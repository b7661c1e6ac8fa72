export { authRoutes } from './http';
export { embeddedIdp, EmbeddedIdp, BAD_CREDENTIALS, LOCKOUT_ATTEMPTS, LOCKOUT_SECONDS, IP_FAILURE_LIMIT, IP_WINDOW_SECONDS } from './service';
export { ACCESS_TOKEN_TTL, MFA_AUDIENCE, MFA_TOKEN_TTL, REFRESH_AUDIENCE, REFRESH_TOKEN_TTL, type TokenSet } from './tokens';
export * from './schemas';
export { hashPassword, verifyPassword, passwordProblem } from './password';
export { newTotpSecret, otpauthUri, TOTP_ISSUER } from './totp';
export { createAdminUser, resetAdminMfa, setAdminDisabled, type Enrolment } from './users';
