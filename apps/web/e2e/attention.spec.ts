import { capture, card, expect, open, test } from './support/helpers';

// The sandbox seeds: acme-ml (healthy HF + Docker Hub), globex-research (HF token expiring in ten
// days: degraded), umbrella-ai (token rejected: unhealthy), initech-labs (unreadable secret: needs reconnect).

test('what needs attention first: summary, sort, filters, a link card, bulk re-check, phone width, dark mode, notifications', async ({
  page,
  sandbox,
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
  // Where the server's time went, as DevTools shows it: the session lookup, the API batch inside the page.
  const serverTiming = await page.evaluate(() =>
    (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).serverTiming.map((e) => e.name),
  );
  expect(serverTiming).toEqual(['session', 'api', 'page']);
  const hf = card(page, 'huggingface');
  await expect(hf.locator('.badge')).toHaveText(/Unhealthy/);
  await expect(hf.locator('blockquote.upstream-words')).not.toBeEmpty();
  await expect(hf).toContainText(/Checked\s*(just now|\d+ minutes? ago)/);
  await expect(hf).not.toContainText('(Healthy)');
  // The seed's probes, all of today: one unhealthy day in the 90-day timeline, the rest without checks.
  const days = hf.getByRole('list', { name: 'Health of Hugging Face per day, oldest first' });
  await expect(days.getByRole('listitem')).toHaveCount(90);
  await expect(days.locator('li.day.unhealthy')).not.toHaveCount(0);
  await expect(days).toHaveAccessibleDescription(/^Last 90 days: (\d+ [a-z ]+, )*\d+ unhealthy, \d+ without checks$/);
  await expect(days.locator('li.day.unhealthy').last()).toHaveAttribute('title', /^\d{4}-\d{2}-\d{2}: .*\d+ unhealthy/);

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
  await open(page, '/orgs/umbrella-ai');
  await capture(page, 'org-timeline-dark');

  // Notifications: a webhook endpoint's secret is shown once; a Slack one at the sandbox receiver gets a test.
  await page.emulateMedia({ colorScheme: 'light' });
  await open(page, '/notifications');
  await expect(page.getByLabel('Name')).toBeFocused();
  await page.getByLabel('Name').fill('attention-hook');
  await page.getByLabel('URL').fill(sandbox.alerts_url);
  await page.getByLabel('test', { exact: true }).check();
  await page.getByRole('button', { name: 'Add the endpoint' }).click();
  await expect(page.getByTestId('endpoint-secret')).toHaveText(/^whsec_[A-Za-z0-9+/=]{32}$/);
  await page.getByRole('button', { name: 'Delete attention-hook' }).click();
  await expect(page.getByRole('status')).toContainText('Deleted attention-hook');
  await expect(page.getByTestId('endpoint-secret')).toHaveCount(0);

  await page.getByLabel('Name').fill('attention-slack');
  await page.getByLabel('Slack incoming webhook').check();
  await page.getByLabel('URL').fill(`${sandbox.alerts_url}slack`);
  await page.getByRole('button', { name: 'Add the endpoint' }).click();
  await expect(page.getByRole('status')).toContainText('Added attention-slack');
  await page.getByRole('button', { name: 'Send a test to attention-slack' }).click();
  const queued = page.getByRole('status').filter({ hasText: 'Test alert' });
  await expect(queued).toContainText(/Test alert msg_[0-9a-f]{32} queued/);
  const id = /msg_[0-9a-f]{32}/.exec((await queued.textContent()) ?? '')?.[0];
  const delivery = page.locator(`tr[data-delivery="${id}"]`);
  await expect(delivery).toContainText('attention-slack');
  // The sandbox dispatches every 2 s: the log shows it delivered after a reload or two.
  await expect(async () => {
    await open(page, '/notifications');
    await expect(delivery.locator('.badge')).toHaveText('delivered', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(delivery).toContainText('HTTP 200');
  const received = (await (await fetch(sandbox.alerts_url)).json()) as {
    deliveries: { type: string; body: unknown }[];
  };
  expect(received.deliveries.some((d) => d.type === 'slack' && JSON.stringify(d.body).includes('test'))).toBe(true);
  await delivery.getByRole('button', { name: `Redeliver ${id}` }).click();
  await expect(page.getByRole('status')).toContainText(`Redelivering ${id}`);
  await capture(page, 'notifications');
});
