import { capture, expect, open, signIn, test } from './support/helpers';

// Signed out: these tests are about getting in (the sandbox's first admin is theirs).
test.use({ storageState: { cookies: [], origins: [] } });

test('sign in with password then TOTP; the browser only gets an HttpOnly SameSite=Strict session cookie', async ({
  page,
  sandbox,
}) => {
  await open(page, '/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('complementary', { name: 'Sandbox' })).toContainText('SANDBOX');
  await capture(page, 'login');

  // A wrong password is refused on the first step.
  await page.getByLabel('Username').fill(sandbox.admin.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByLabel('Authentication code')).toHaveCount(0);

  await page.getByLabel('Password').fill(sandbox.admin.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByLabel('Authentication code')).toBeVisible();
  await capture(page, 'login-totp');
  await page.getByRole('button', { name: 'Use a different account' }).click();
  await expect(page.getByLabel('Username')).toBeVisible();

  await signIn(page, sandbox);
  await expect(page.getByText(`Signed in as ${sandbox.admin.username}`)).toBeVisible();

  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.name)).toEqual(['as_session']);
  const [cookie] = cookies;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', expires: -1 });
  expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test('security headers: CSP without inline scripts, no framing, no referrer', async ({ request }) => {
  const res = await request.get('/login');
  expect(res.status()).toBe(200);
  const h = res.headers();
  const csp = h['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self'( 'sha256-[^']+')*;/);
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['x-frame-options']).toBe('DENY');
  expect(h['permissions-policy']).toContain('camera=()');
  // Unauthenticated pages send you to sign in; the API's data never renders without a session.
  const guarded = await request.get('/orgs/org-demo', { maxRedirects: 0 });
  expect(guarded.status()).toBe(303);
  expect(guarded.headers().location).toMatch(/^\/login\?next=/);
});
