import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../env';
import { loadKeyring, productionProblems } from '../../runtime/index';
import { hashPassword, SCRYPT_N_DEFAULT, verifyPassword } from './password';

const PASSWORD = 'correct horse battery staple';

describe('password hashes', () => {
  it('are scrypt at the configured cost, and each verifies by its own stored parameters', async () => {
    const standard = await hashPassword(PASSWORD);
    const cheaper = await hashPassword(PASSWORD, 2 ** 14);
    expect(standard).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{43}\$[\w-]{43}$/);
    expect(cheaper).toMatch(/^scrypt\$16384\$8\$1\$/);
    // Changing the configured cost needs no migration: hashes made before keep verifying.
    for (const stored of [standard, cheaper]) {
      expect(await verifyPassword(PASSWORD, stored)).toBe(true);
      expect(await verifyPassword(`${PASSWORD}!`, stored)).toBe(false);
    }
  });

  it('never match when the stored parameters are out of bounds or malformed (a tampered row is no memory bomb)', async () => {
    const [, , r, p, salt, hash] = (await hashPassword(PASSWORD, 2 ** 14)).split('$');
    for (const n of [2 ** 21, 2 ** 13, 20_000]) {
      expect(await verifyPassword(PASSWORD, ['scrypt', n, r, p, salt, hash].join('$'))).toBe(false);
    }
    expect(await verifyPassword(PASSWORD, ['scrypt', 2 ** 14, 33, p, salt, hash].join('$'))).toBe(false);
    expect(await verifyPassword(PASSWORD, ['bcrypt', 2 ** 14, r, p, salt, hash].join('$'))).toBe(false);
    expect(await verifyPassword(PASSWORD, ['scrypt', 2 ** 14, r, p, 'c2hvcnQ', hash].join('$'))).toBe(false);
  });
});

describe('ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N', () => {
  const base = { ALPHASWARM_ENV: 'test', HOME: '/nonexistent' };

  it('defaults to 2^15 and takes a power of two from 2^14 to 2^20', () => {
    expect(parseEnv(base).ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N).toBe(SCRYPT_N_DEFAULT);
    expect(parseEnv({ ...base, ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: '131072' }).ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N).toBe(
      2 ** 17,
    );
    for (const [value, message] of [
      ['20000', /ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: a power of two/],
      ['8192', /ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: .*>=16384/],
      ['2097152', /ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: .*<=1048576/],
    ] as const) {
      expect(() => parseEnv({ ...base, ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: value })).toThrow(ConfigError);
      expect(() => parseEnv({ ...base, ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: value })).toThrow(message);
    }
  });

  it('is refused below the default in production', () => {
    const env = parseEnv({ ...base, ALPHASWARM_ENV: 'development', ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: '16384' });
    expect(productionProblems(env, loadKeyring(env))).toContain(
      'ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N is 16384: new password hashes need at least 32768 (2^15); unset it or raise it.',
    );
    const standard = parseEnv({ ...base, ALPHASWARM_ENV: 'development' });
    expect(productionProblems(standard, loadKeyring(standard)).join('\n')).not.toContain('SCRYPT');
  });
});
