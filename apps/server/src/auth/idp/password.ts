import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './schemas';

/**
 * scrypt (r=8, p=1) at N=2^15 by default: 32 MiB per hash, 50–200 ms on one core depending on the
 * machine; `ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N` raises it (production refuses less than the
 * default). Stored as `scrypt$N$r$p$salt$hash` (base64url), so parameters can change without a
 * migration: verification uses the stored ones, within bounds.
 */
export const SCRYPT_N_DEFAULT = 2 ** 15;
/** The bounds a stored hash's N must keep: a tampered row cannot turn one sign-in into a memory bomb. */
export const SCRYPT_N_MIN = 2 ** 14;
export const SCRYPT_N_MAX = 2 ** 20;
const R = 8;
const P = 1;
const SALT_BYTES = 32;
const HASH_BYTES = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, n: number = SCRYPT_N_DEFAULT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, n, R, P, HASH_BYTES);
  return ['scrypt', n, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Constant-time check. A malformed stored hash never matches (and never throws). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!Number.isInteger(Math.log2(n)) || n < SCRYPT_N_MIN || n > SCRYPT_N_MAX || r < 1 || r > 32 || p < 1 || p > 16)
    return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 16 || expected.length < 16) return false;
  const actual = await derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

const dummies = new Map<number, Promise<string>>();

/**
 * A hash of a random password at the configured cost, compared against when the username is
 * unknown, so an unknown user costs the same scrypt run as a wrong password and timing does not
 * reveal who exists.
 */
export function dummyPasswordHash(n: number): Promise<string> {
  let dummy = dummies.get(n);
  if (!dummy) {
    dummy = hashPassword(randomBytes(32).toString('base64url'), n);
    dummies.set(n, dummy);
  }
  return dummy;
}

let common: Promise<Set<string>> | null = null;

/**
 * The bundled list of common (breached) passwords: the ~49,000 of zxcvbn's `passwords` dictionary
 * (@zxcvbn-ts/language-common, MIT), lower-cased. Loaded on first use, not at start.
 */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then((mod) => {
    // Its CommonJS build, as the server bundle loads it, arrives under `default`.
    const { dictionary } = (mod.dictionary ? mod : (mod as unknown as { default: typeof mod }).default) as typeof mod;
    return new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  });
  return common;
}

/**
 * Whether `password` is on the list, also once the digits and symbols people append to meet a
 * length rule are taken off ("password1234!" is "password").
 */
export async function isCommonPassword(password: string): Promise<boolean> {
  const lower = password.normalize('NFKC').toLowerCase();
  const list = await commonPasswords();
  if (list.has(lower)) return true;
  const stem = lower.replace(/[\d\W_]+$/u, '');
  return stem.length >= 4 && list.has(stem);
}

/** Why a new password is unacceptable, or null. The same rules for create-admin, change-password and the console. */
export async function passwordProblem(password: string, username?: string): Promise<string | null> {
  if (password.length < PASSWORD_MIN_LENGTH)
    return `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`;
  if (password.trim() !== password) return 'The password must not start or end with whitespace.';
  if (username && username.length >= 4 && password.normalize('NFKC').toLowerCase().includes(username.toLowerCase()))
    return 'The password must not contain the username.';
  if (await isCommonPassword(password))
    return 'That password is on the list of commonly used (breached) passwords; choose another, e.g. four or five random words.';
  return null;
}
