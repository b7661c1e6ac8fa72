import { AppError, isAdminScope } from '@alphaswarm/api';
import {
  clearSecondFactors,
  type Database,
  getAdminUser,
  insertAdminUser,
  isoNow,
  replaceAdminPassword,
  replaceAdminTotpSecret,
  type SecretCipher,
  setAdminUserDisabled,
} from '@alphaswarm/db';
import { hashPassword, passwordProblem } from './password';
import { ADMIN_SCOPES, Username } from './schemas';
import { newTotpSecret, otpauthUri } from './totp';

/** What an operator needs to enrol an authenticator app. Shown once, never stored in clear. */
export interface Enrolment {
  username: string;
  scopes: string[];
  secret: string;
  uri: string;
}

function checkUsername(username: string): string {
  const parsed = Username.safeParse(username);
  if (!parsed.success) throw new AppError('invalid_request', parsed.error.issues[0]?.message ?? 'Invalid username.');
  return parsed.data;
}

function checkScopes(scopes: string[]): string[] {
  const unique = [...new Set(scopes.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
  const unknown = unique.filter((s) => !isAdminScope(s));
  if (unknown.length > 0) {
    throw new AppError(
      'invalid_request',
      `Unknown scope ${unknown.join(', ')}: an admin can hold ${ADMIN_SCOPES.join(', ')} or admin:org:<org_id>.`,
    );
  }
  if (unique.length === 0)
    throw new AppError('invalid_request', `Give at least one scope (${ADMIN_SCOPES.join(' or ')}).`);
  return unique;
}

export async function createAdminUser(
  db: Database,
  cipher: SecretCipher,
  input: { username: string; password: string; scopes: string[]; now: Date; scryptN: number },
): Promise<Enrolment> {
  const username = checkUsername(input.username);
  const scopes = checkScopes(input.scopes);
  const problem = await passwordProblem(input.password, username);
  if (problem) throw new AppError('invalid_request', problem);
  const secret = newTotpSecret();
  const created = await insertAdminUser(
    db,
    {
      username,
      passwordHash: await hashPassword(input.password, input.scryptN),
      totpSecret: cipher.encrypt(secret),
      scopes: scopes.join(' '),
    },
    isoNow(input.now),
  );
  if (!created)
    throw new AppError(
      'conflict',
      `An admin named "${username}" already exists (use reset-mfa to re-enrol their authenticator).`,
    );
  return { username, scopes, secret, uri: otpauthUri(username, secret) };
}

/**
 * A lost or compromised authenticator: a new TOTP secret, every passkey and recovery code removed,
 * and (through the session fingerprint) every session of the user ended.
 */
export async function resetAdminMfa(
  db: Database,
  cipher: SecretCipher,
  username: string,
  now: Date,
): Promise<Enrolment> {
  const user = await getAdminUser(db, checkUsername(username));
  if (!user) throw new AppError('not_found', `No admin named "${username}".`);
  const secret = newTotpSecret();
  await clearSecondFactors(db, user.username);
  await replaceAdminTotpSecret(db, user.username, cipher.encrypt(secret), isoNow(now));
  return {
    username: user.username,
    scopes: user.scopes.split(' ').filter(Boolean),
    secret,
    uri: otpauthUri(user.username, secret),
  };
}

/** Disabled admins cannot sign in, step up or refresh; enabling also lifts a lockout. */
export async function setAdminDisabled(db: Database, username: string, disabled: boolean, now: Date): Promise<void> {
  const done = await setAdminUserDisabled(db, checkUsername(username), disabled ? isoNow(now) : null, isoNow(now));
  if (!done) throw new AppError('not_found', `No admin named "${username}".`);
}

/** A new password, under the same rules as at creation; every session of the user ends with the old one. */
export async function changeAdminPassword(
  db: Database,
  username: string,
  password: string,
  now: Date,
  scryptN: number,
): Promise<void> {
  const name = checkUsername(username);
  const problem = await passwordProblem(password, name);
  if (problem) throw new AppError('invalid_request', problem, { field: 'new_password' });
  const done = await replaceAdminPassword(db, name, await hashPassword(password, scryptN), isoNow(now));
  if (!done) throw new AppError('not_found', `No admin named "${username}".`);
}
