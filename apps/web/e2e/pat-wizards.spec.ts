import { capture, card, connectHuggingFace, expect, open, test } from './support/helpers';

const ORG = 'acme-pat';

test('Hugging Face: a rejected token shows the upstream message next to the field, then the wizard connects', async ({
  page,
  sandbox,
}) => {
  await open(page, `/orgs/${ORG}`);
  await expect(card(page, 'huggingface').locator('.badge')).toHaveText(/Not connected/);
  await capture(page, 'org-empty');

  await card(page, 'huggingface')
    .getByRole('link', { name: /Connect/ })
    .click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Connect Hugging Face');
  const token = page.getByLabel('Access token');
  await expect(token).toHaveAttribute('type', 'password');
  await expect(token).toHaveAttribute('autocomplete', 'off');
  await capture(page, 'wizard-huggingface');

  await token.fill(sandbox.demo.huggingface.bad_token);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  const error = page.locator('#token-error');
  await expect(error).toContainText('Hugging Face rejected the token');
  await expect(token).toHaveAttribute('aria-invalid', 'true');
  await expect(token).toHaveAttribute('aria-describedby', 'token-error');
  expect(await page.content()).not.toContain(sandbox.demo.huggingface.bad_token);
  await capture(page, 'wizard-huggingface-rejected');

  await connectHuggingFace(page, sandbox, ORG);
  const hf = card(page, 'huggingface');
  await expect(hf.locator('.badge')).toHaveText(/Healthy/);
  await expect(hf).toContainText('demo-org');
  await expect(hf).toContainText('alphaswarm-sandbox');
  // Masked metadata: the account email is not shown in full.
  await expect(hf).not.toContainText('demo-user@example.com');
  await expect(hf).toContainText('d•••@example.com');
  expect(await page.content()).not.toContain(sandbox.demo.huggingface.token);
  await capture(page, 'org');

  // The audit run of the connect is one click away.
  await page.getByRole('status').getByRole('link').click();
  await expect(page).toHaveURL(/\/audit\?run_id=run_/);
  await expect(page.locator('li.entry')).toContainText('integrations.connect.huggingface');
  await expect(page.locator('li.event')).toHaveCount(2);
});

test('Docker Hub: the wizard connects with username + PAT and shows only masked metadata', async ({
  page,
  sandbox,
}) => {
  await open(page, `/orgs/${ORG}/connect/docker_hub`);
  await expect(page.getByLabel('Personal access token')).toHaveAttribute('type', 'password');
  await expect(page.getByLabel('Personal access token')).toHaveAttribute('autocomplete', 'off');
  await capture(page, 'wizard-docker-hub');

  // A PAT Docker Hub refuses: its message sits next to the PAT field.
  await page.getByLabel('Docker Hub username').fill(sandbox.demo.docker_hub.username);
  await page.getByLabel('Personal access token').fill('dckr_pat_wrong_0000000000');
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(page.locator('#pat-error')).toContainText(/Docker Hub/);
  await expect(page.getByLabel('Docker Hub username')).toHaveValue(sandbox.demo.docker_hub.username);

  await page.getByLabel('Personal access token').fill(sandbox.demo.docker_hub.pat);
  await page.getByLabel('Namespace').fill(sandbox.demo.docker_hub.namespace);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}#docker_hub$`));
  const hub = card(page, 'docker_hub');
  await expect(hub.locator('.badge')).toHaveText(/Healthy/);
  await expect(hub).toContainText(sandbox.demo.docker_hub.namespace);
  expect(await page.content()).not.toContain(sandbox.demo.docker_hub.pat);

  // Reconnect shows what is connected now, masked.
  await open(page, `/orgs/${ORG}/connect/docker_hub`);
  await expect(page.getByRole('region', { name: 'Currently connected' })).toContainText(
    sandbox.demo.docker_hub.namespace,
  );
  await expect(page.getByLabel('Personal access token')).toHaveValue('');
});

test('re-check runs the probe again and links its audit run', async ({ page }) => {
  await open(page, `/orgs/${ORG}`);
  await card(page, 'huggingface').getByRole('button', { name: 'Re-check Hugging Face' }).click();
  await expect(page.getByRole('status')).toContainText('Re-checked Hugging Face: healthy');
  await expect(page.getByRole('status').getByRole('link')).toHaveAttribute('href', /\/audit\?run_id=run_/);
  await expect(card(page, 'huggingface').locator('.badge')).toHaveText(/Healthy/);
});

test('disconnect asks first, shows the upstream revocation steps, and again after', async ({ page }) => {
  await open(page, `/orgs/${ORG}`);
  await card(page, 'docker_hub').getByRole('link', { name: 'Disconnect Docker Hub' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Disconnect Docker Hub from ${ORG}?`);
  await expect(page.getByTestId('revocation-guidance')).toContainText('Personal access tokens');
  await capture(page, 'disconnect-confirm');

  await page.getByRole('button', { name: 'Disconnect Docker Hub' }).click();
  await expect(page).toHaveURL(/\/disconnect\/docker_hub\?done=run_/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Docker Hub disconnected');
  await expect(page.getByTestId('revocation-guidance')).toContainText('Account settings → Personal access tokens');
  await expect(page.getByRole('status')).toContainText(`docker_hub:org:${ORG}`);
  await capture(page, 'disconnect-done');

  await page.getByRole('link', { name: `Back to ${ORG}` }).click();
  await expect(card(page, 'docker_hub').locator('.badge')).toHaveText(/Not connected/);
});
