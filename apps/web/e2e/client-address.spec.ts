import { expect, test } from './support/helpers';
import { auditOf } from './support/sandbox';

/**
 * The console forwards the browser's address on its API calls, from a loopback address of its
 * own (127.0.0.2) that the sandbox API alone trusts; anything else on the machine (127.0.0.1)
 * cannot pose as another client with X-Forwarded-For.
 */
test("the API audits the browser's address through the console, and no one else's X-Forwarded-For", async ({
  sandbox,
  signedIn: _,
}) => {
  const manifest = process.env.E2E_SANDBOX ?? '';
  // This worker's sign-in (the `signedIn` fixture) went through the console (connecting from 127.0.0.2).
  const [signedIn] = (await auditOf(manifest, 'auth.step_up')).filter((e) => e.outcome === 'success');
  expect(signedIn?.clientIp).toBe('127.0.0.1');

  const spoofed = await fetch(`${sandbox.api_url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.23' },
    body: JSON.stringify({ username: 'no-such-admin', password: 'not a password' }),
  });
  expect(spoofed.status).toBe(401);
  const [failure] = (await auditOf(manifest, 'auth.login')).filter((e) => e.detail.reason === 'unknown_user');
  expect(failure?.clientIp).toBe('127.0.0.1');
});
