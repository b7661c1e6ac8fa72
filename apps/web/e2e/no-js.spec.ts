import { card, expect, test } from './support/helpers';

// Progressive enhancement: the core forms work as plain HTML posts.
test.use({ javaScriptEnabled: false });

const ORG = 'plain-html';

test('without JavaScript: connect, fail next to the field, re-check and disconnect', async ({ page, sandbox }) => {
  await page.goto(`/orgs/${ORG}/connect/huggingface`);
  await page.getByLabel('Access token').fill(sandbox.demo.huggingface.bad_token);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(page.locator('#token-error')).toContainText('Hugging Face rejected the token');
  await expect(page.getByLabel('Access token')).toHaveValue('');

  await page.getByLabel('Access token').fill(sandbox.demo.huggingface.token);
  await page.getByLabel('Namespace').fill(sandbox.demo.huggingface.namespace);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${ORG}#huggingface$`));
  await expect(card(page, 'huggingface').locator('.badge')).toHaveText(/Healthy/);

  await card(page, 'huggingface').getByRole('button', { name: 'Re-check Hugging Face' }).click();
  await expect(page.getByRole('status')).toContainText('Re-checked Hugging Face');

  await card(page, 'huggingface').getByRole('link', { name: 'Disconnect Hugging Face' }).click();
  await page.getByRole('button', { name: 'Disconnect Hugging Face' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hugging Face disconnected');
  await expect(page.getByTestId('revocation-guidance')).toContainText('Access Tokens');
});
