import { describe, expect, it } from 'vitest';
import { parseConsoleEnv } from './env';

describe('console configuration', () => {
  it('defaults to the local API and plain cookies', () => {
    const env = parseConsoleEnv({});
    expect(env.ALPHASWARM_ADMIN_API_URL).toBe('http://127.0.0.1:8700');
    expect(env.secureCookies).toBe(false);
  });

  it('turns on Secure cookies for an https origin and trims the API URL', () => {
    const env = parseConsoleEnv({ ORIGIN: 'https://console.example', ALPHASWARM_ADMIN_API_URL: 'http://api:8700/' });
    expect(env.secureCookies).toBe(true);
    expect(env.ALPHASWARM_ADMIN_API_URL).toBe('http://api:8700');
  });

  it('reads the body size limit as adapter-node does, and refuses an unbounded one', () => {
    expect(parseConsoleEnv({}).bodySizeLimit).toBe(512 * 1024);
    expect(parseConsoleEnv({ BODY_SIZE_LIMIT: '1M' }).bodySizeLimit).toBe(1024 * 1024);
    expect(parseConsoleEnv({ BODY_SIZE_LIMIT: '2048' }).bodySizeLimit).toBe(2048);
    for (const value of ['Infinity', '0', '-1', '1T', 'lots']) {
      expect(() => parseConsoleEnv({ BODY_SIZE_LIMIT: value }), value).toThrow(/BODY_SIZE_LIMIT/);
    }
  });

  it('names the variable that is wrong', () => {
    expect(() => parseConsoleEnv({ ALPHASWARM_ADMIN_API_URL: 'ftp://x' })).toThrow(/ALPHASWARM_ADMIN_API_URL/);
    expect(() => parseConsoleEnv({ ALPHASWARM_CONSOLE_SESSION_IDLE: '5' })).toThrow(/ALPHASWARM_CONSOLE_SESSION_IDLE/);
  });

  it('wants a session key in production, says how to make one, and reads the database like the API', () => {
    expect(() => parseConsoleEnv({ ALPHASWARM_ENV: 'production' })).toThrow(
      /ALPHASWARM_CONSOLE_SESSION_KEY: required in production.*alphaswarm-admin generate-key/,
    );
    expect(() => parseConsoleEnv({ ALPHASWARM_CONSOLE_SESSION_KEY: 'not-a-key' })).toThrow(/generate-key/);
    const key = `${'a'.repeat(43)}=`;
    const env = parseConsoleEnv({ ALPHASWARM_CONSOLE_SESSION_KEY: `${key}, ${key}`, HOME: '/home/op' });
    expect(env.database).toEqual({ databaseUrl: undefined, dbPath: '/home/op/.alphaswarm/admin.db', pool: 10 });
    expect(() => parseConsoleEnv({ ALPHASWARM_ADMIN_DATABASE_URL: 'mysql://x' })).toThrow(
      /ALPHASWARM_ADMIN_DATABASE_URL/,
    );
  });
});
