import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiFor, publicApiFor } from './api';
import { parseConsoleEnv } from './env';

/**
 * The console's calls to the API carry the browser's address, and (when configured) leave from
 * the console's own source address: what the API's ALPHASWARM_ADMIN_TRUSTED_PROXIES keys on.
 * A real loopback server stands in for the API and records what reached it.
 */
describe('console → API transport', () => {
  let server: Server;
  let url = '';
  const seen: { peer: string | undefined; forwarded: string | undefined; path: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({
        peer: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
        forwarded: req.headers['x-forwarded-for'] as string | undefined,
        path: new URL(req.url ?? '/', 'http://x').pathname,
      });
      const batch = new URL(req.url ?? '/', 'http://x').searchParams.get('batch') === '1';
      const result = { result: { data: { mfa_token: 'm', expires_in: 300 } } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(batch ? [result] : result));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sign-in calls forward the browser address and leave from the configured source address', async () => {
    seen.length = 0;
    const env = parseConsoleEnv({ ALPHASWARM_ADMIN_API_URL: url, ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS: '127.0.0.2' });
    await publicApiFor(env, '203.0.113.5').auth.login.mutate({ username: 'a', password: 'b' });
    await adminApiFor(env, async () => 'token', '203.0.113.6').auth.me.query();
    expect(seen).toEqual([
      { peer: '127.0.0.2', forwarded: '203.0.113.5', path: '/trpc/auth.login' },
      { peer: '127.0.0.2', forwarded: '203.0.113.6', path: '/trpc/auth.me' },
    ]);
  });

  it('without a source address the system picks one; no address, no header', async () => {
    seen.length = 0;
    await publicApiFor(parseConsoleEnv({ ALPHASWARM_ADMIN_API_URL: url }), null).auth.login.mutate({
      username: 'a',
      password: 'b',
    });
    expect(seen).toEqual([{ peer: '127.0.0.1', forwarded: undefined, path: '/trpc/auth.login' }]);
    expect(() => parseConsoleEnv({ ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS: 'localhost' })).toThrow(
      /ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS/,
    );
  });
});
