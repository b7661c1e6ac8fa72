import { capture, card, expect, open, test } from './support/helpers';

// The sandbox seeds: acme-ml (healthy HF + Docker Hub), globex-research (HF token expiring in ten
// days: degraded), umbrella-ai (token rejected: unhealthy), initech-labs (unreadable secret: needs reconnect).

test('what needs attention first: summary, sort, filters, a link card, bulk re-check, phone width, dark mode', async ({
  page,
}) => {
  await open(page, '/');
  const summary = page.getByRole('region', { name: 'Platform' });
  await expect(summary).toContainText(/need attention/);
  await expect(summary.getByRole('list', { name: 'Needs action' })).toContainText('initech-labs · Hugging Face');
  const rows = page.locator('table.orgs tbody tr');
  // Unhealthy and needs-reconnect orgs first, then the degraded one, whatever else other tests linked.
  await expect(rows.nth(0)).toHaveAttribute('data-org', 'initech-labs');
  await expect(rows.nth(1)).toHaveAttribute('data-org', 'umbrella-ai');
  await expect(rows.nth(2)).toHaveAttribute('data-org', 'globex-research');
  await expect(rows.nth(2)).toContainText(/in (9|10) days/);
  await expect(page.locator('tr[data-org="acme-ml"] abbr.kind-mark > span[aria-hidden]')).toHaveText(['DH', 'HF']);
  await capture(page, 'orgs-attention');

  await summary.getByRole('link', { name: /Degraded/ }).click();
  await expect(page).toHaveURL(/\?status=degraded/);
  await expect(page.locator('tr[data-org="globex-research"]')).toBeVisible();
  await expect(page.locator('tr[data-org="umbrella-ai"]')).toHaveCount(0);

  await page.getByLabel('Status', { exact: true }).selectOption('');
  await page.getByLabel('Kind', { exact: true }).selectOption('docker_hub');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/kind=docker_hub/);
  await expect(page.locator('tr[data-org="acme-ml"]')).toBeVisible();
  await expect(page.locator('tr[data-org="initech-labs"]')).toHaveCount(0);

  await open(page, '/orgs/umbrella-ai');
  const hf = card(page, 'huggingface');
  await expect(hf.locator('.badge')).toHaveText(/Unhealthy/);
  await expect(hf.locator('blockquote.upstream-words')).not.toBeEmpty();
  await expect(hf).toContainText(/Checked\s*(just now|\d+ minutes? ago)/);
  await expect(hf).not.toContainText('(Healthy)');
  // The seed's connect and the probe after it: the health timeline, oldest first.
  await expect(hf.getByRole('list', { name: /checks of Hugging Face/ }).locator('li.tick.unhealthy')).not.toHaveCount(
    0,
  );

  await open(page, '/');
  await page.getByRole('button', { name: 'Re-check every link needing attention' }).click();
  await expect(page.getByRole('status')).toContainText(/Re-checked \d+ link\(s\)/);
  await expect(page.getByRole('status').getByRole('link')).toHaveAttribute('href', /\/audit\?run_id=run_/);

  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/', '/orgs/globex-research', '/audit']) {
    await open(page, path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `horizontal overflow on ${path} at 390 px`).toBeLessThanOrEqual(0);
  }

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await open(page, '/');
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(13, 17, 23)');
  await capture(page, 'orgs-dark');
});
