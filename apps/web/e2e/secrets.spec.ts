import { browserStorage, card, connectHuggingFace, expect, open, secretsOf, test } from './support/helpers';

const ORG = 'secret-keeper';

test('after connecting, no secret is in any page, response or browser storage', async ({
  page,
  sandbox,
  responses,
}) => {
  await connectHuggingFace(page, sandbox, ORG);
  await open(page, `/orgs/${ORG}/connect/docker_hub`);
  await page.getByLabel('Docker Hub username').fill(sandbox.demo.docker_hub.username);
  await page.getByLabel('Personal access token').fill(sandbox.demo.docker_hub.pat);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(card(page, 'docker_hub').locator('.badge')).toHaveText(/Healthy/);

  const pages = [
    '/',
    `/orgs/${ORG}`,
    `/orgs/${ORG}/connect/huggingface`,
    `/orgs/${ORG}/connect/docker_hub`,
    `/orgs/${ORG}/disconnect/huggingface`,
    `/orgs/${sandbox.demo.org_id}`,
    `/orgs/${sandbox.demo.org_id}/cloud/cloud_cloudflare`,
    '/audit',
    '/store',
  ];
  const secrets = secretsOf(sandbox);
  for (const path of pages) {
    await open(page, path);
    const html = await page.content();
    for (const s of secrets) expect(html, `${path} must not contain a secret`).not.toContain(s);
    // The admin's JWTs stay in the BFF: nothing token-shaped reaches the page.
    expect(html).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  }

  const storage = await browserStorage(page);
  for (const s of secrets) expect(storage).not.toContain(s);
  expect(storage).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  const state = await page.context().storageState();
  expect(state.origins.flatMap((o) => o.localStorage)).toEqual([]);
  expect(state.cookies.map((c) => c.name)).toEqual(['as_session']);

  // And the responses of this test (the fixture checks every test's) were really looked at.
  expect(responses.some((r) => r.url.includes('/connect/docker_hub'))).toBe(true);
});
