import { capture, connectHuggingFace, expect, open, test } from './support/helpers';

test('organisations: search, counts by status, and any valid org id is reachable', async ({ page, sandbox }) => {
  await connectHuggingFace(page, sandbox, 'zeta-orgs');

  await open(page, '/');
  const row = page.getByRole('row', { name: /zeta-orgs/ });
  await expect(row).toBeVisible();
  await expect(row.getByRole('list', { name: 'Links of zeta-orgs by status' })).toHaveText('1 Healthy');
  await capture(page, 'orgs');

  await page.getByRole('searchbox', { name: 'Search org ids' }).fill('zeta');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/\?search=zeta/);
  await expect(page.locator('tbody tr')).toHaveCount(1);

  await page.getByRole('textbox', { name: 'Org id' }).fill('-not valid!');
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('#go-org-error')).toContainText('org_id must be');
  await expect(page.getByRole('textbox', { name: 'Org id' })).toHaveAttribute('aria-invalid', 'true');

  await page.getByRole('textbox', { name: 'Org id' }).fill('brand-new.org_1');
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page).toHaveURL(/\/orgs\/brand-new\.org_1$/);
  await expect(page.locator('li.card .badge')).toHaveText(Array(6).fill(/Not connected/));
});

test('an invalid org id in the URL is a 404 page, not a call with bad input', async ({ page }) => {
  const res = await page.goto('/orgs/-bad');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('alert')).toContainText('not a valid org_id');
  await capture(page, 'not-found');
});
