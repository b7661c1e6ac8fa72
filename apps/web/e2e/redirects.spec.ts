import { expect, test } from './support/helpers';

test('after sign-in, next= only ever leads to a page of this console', async ({ page, baseURL }) => {
  const origin = new URL(baseURL ?? '').origin;
  // Chromium reads a Location of "/\t/host" as "//host": another site, unless the console refuses it.
  for (const next of [
    '/%09/evil.example',
    '/%0A/evil.example',
    '/%5Cevil.example',
    '//evil.example',
    '/.//evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
  ]) {
    await page.goto(`/login?next=${next}`);
    expect(new URL(page.url()).origin, next).toBe(origin);
    await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  }
  await page.goto('/login?next=%2Faudit%3Forg_id%3Dorg-demo');
  await expect(page).toHaveURL(/\/audit\?org_id=org-demo$/);

  for (const next of ['%0A', '/%0A', '/%0D%0ASet-Cookie:%20x=y', '%00']) {
    const res = await page.request.get(`/login?next=${next}`, { maxRedirects: 0 });
    expect(res.status(), next).toBe(303);
    expect(res.headers().location, next).toBe('/');
  }
});
