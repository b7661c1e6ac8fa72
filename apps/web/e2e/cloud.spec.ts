import type { Page } from '@playwright/test';
import { capture, card, expect, open, test } from './support/helpers';
import type { Manifest } from './support/sandbox';

type CloudKind = 'cloud_aws' | 'cloud_gcp' | 'cloud_azure' | 'cloud_cloudflare';

const WIZARDS: {
  kind: CloudKind;
  label: string;
  fill: (page: Page, m: Manifest) => Promise<void>;
  principal: RegExp;
}[] = [
  {
    kind: 'cloud_aws',
    label: 'AWS',
    principal: /assumed-role/,
    fill: async (page, m) => {
      await page.getByLabel('IAM role ARN').fill(m.demo.cloud_aws.role_arn);
    },
  },
  {
    kind: 'cloud_gcp',
    label: 'Google Cloud',
    principal: /alphaswarm@demo-project/,
    fill: async (page, m) => {
      await page.getByLabel('Workload identity provider').fill(m.demo.cloud_gcp.workload_identity_provider);
      await page.getByLabel('Service account email').fill(m.demo.cloud_gcp.service_account_email);
      await step(page, 'validate_identity').getByLabel('Project id').fill(m.demo.cloud_gcp.project_id);
    },
  },
  {
    kind: 'cloud_azure',
    label: 'Azure',
    principal: /.+/,
    fill: async (page, m) => {
      await page.getByLabel('Tenant id').fill(m.demo.cloud_azure.tenant_id);
      await page.getByLabel('Client id').fill(m.demo.cloud_azure.client_id);
    },
  },
  {
    kind: 'cloud_cloudflare',
    label: 'Cloudflare',
    principal: /.+/,
    fill: async (page, m) => {
      await page.getByLabel('Account id').fill(m.demo.cloud_cloudflare.account_id);
      const token = page.getByLabel('API token', { exact: true });
      await expect(token).toHaveAttribute('type', 'password');
      await token.fill(m.demo.cloud_cloudflare.api_token);
    },
  },
];

function step(page: Page, id: string) {
  return page.locator(`#step-${id}`);
}

for (const w of WIZARDS) {
  test(`${w.label}: the five-step onboarding, resumed half-way, connects the link`, async ({ page, sandbox }) => {
    const org = sandbox.demo.org_id;
    await open(page, `/orgs/${org}`);
    await card(page, w.kind)
      .getByRole('link', { name: `Connect ${w.label}` })
      .click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Connect ${w.label}`);
    await page.getByRole('button', { name: /Start (the|a new) onboarding/ }).click();
    await expect(page).toHaveURL(/\?session=wiz_/);
    const sessionUrl = page.url();

    // 1. artifacts, each with copy and download (GCP asks for the project first, to fill it in)
    const artifacts = step(page, 'bootstrap_artifacts');
    if (w.kind === 'cloud_gcp') await artifacts.getByLabel('Project id').fill(sandbox.demo.cloud_gcp.project_id);
    await artifacts.getByRole('button', { name: 'Generate artifacts' }).click();
    if (w.kind === 'cloud_cloudflare') {
      // No OIDC at Cloudflare: no issuer/audience/subject, and the token recipe is rendered as steps.
      await expect(artifacts).toContainText(`alphaswarm-${org}`);
      await expect(artifacts).not.toContainText('Issuer');
      await expect(artifacts.locator('.recipe ol > li').first()).toBeVisible();
    } else {
      await expect(artifacts).toContainText(`org:${org}:${w.kind}`);
    }
    if (w.kind === 'cloud_gcp')
      await expect(artifacts).toContainText(`PROJECT_ID='${sandbox.demo.cloud_gcp.project_id}'`);
    await expect(artifacts.getByRole('button', { name: /^Copy/ }).first()).toBeVisible();
    // The artifacts sit in radio tabs: Terraform shows its file.
    await artifacts.locator('label.tab-label', { hasText: 'Terraform' }).click();
    await expect(artifacts.getByRole('link', { name: /^Download .*\.tf$/ })).toBeVisible();
    const download = artifacts.getByRole('link', { name: /^Download/ }).first();
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    const path = await file.path();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path, 'utf8')).toContain(org);

    // Resumable: leave; the org card marks the onboarding in progress and leads back to it (through
    // the list of open sessions when another test has one open for this kind too).
    await open(page, `/orgs/${org}`);
    await card(page, w.kind)
      .getByRole('link', {
        name: new RegExp(`^Onboarding in progress( \\(\\d+ sessions\\))?: resume ${w.label} onboarding$`),
      })
      .click();
    if (!page.url().includes('?session=')) await page.locator(`a[href="${new URL(sessionUrl).search}"]`).click();
    await expect(page).toHaveURL(sessionUrl);
    await expect(step(page, 'bootstrap_artifacts')).toContainText('— Done');

    // 2. identity (AWS: a role that does not trust us first; the upstream's words at that step, not on top)
    if (w.kind === 'cloud_aws') {
      await page.getByLabel('IAM role ARN').fill('arn:aws:iam::111122223333:role/not-there');
      await step(page, 'validate_identity').getByRole('button', { name: 'Validate identity' }).click();
      await expect(step(page, 'validate_identity')).toContainText('— Failed');
      await expect(step(page, 'validate_identity').getByRole('alert')).toContainText(`org:${org}:cloud_aws`);
      await expect(page.getByRole('alert')).toHaveCount(1);
    }
    await w.fill(page, sandbox);
    await step(page, 'validate_identity').getByRole('button', { name: 'Validate identity' }).click();
    await expect(page.getByTestId('principal')).toHaveText(w.principal);

    // 3. permissions: a checklist of granted/missing
    await step(page, 'validate_permissions').getByRole('button', { name: 'Check permissions' }).click();
    const checks = step(page, 'validate_permissions').getByRole('table', { name: 'Permission checklist' });
    await expect(checks).toBeVisible();
    await expect(checks.locator('.badge.granted').first()).toBeVisible();
    await expect(checks.locator('.badge.missing')).toHaveCount(0);

    // 4. resources
    await step(page, 'enumerate_resources').getByRole('button', { name: 'List resources' }).click();
    await expect(step(page, 'enumerate_resources').getByRole('table')).toBeVisible();
    await expect(step(page, 'enumerate_resources').locator('tbody tr').first()).toBeVisible();
    await capture(page, `cloud-${w.kind}`);

    // 5. connect
    await step(page, 'connect')
      .getByRole('button', { name: `Connect ${w.label}` })
      .click();
    await expect(page).toHaveURL(new RegExp(`/orgs/${org}#${w.kind}$`));
    await expect(page.getByRole('status')).toContainText(`Connected ${w.label}`);
    await expect(card(page, w.kind).locator('.badge')).toHaveText(/Healthy|Degraded/);
    expect(await page.content()).not.toContain(sandbox.demo.cloud_cloudflare.api_token);

    if (w.kind === 'cloud_cloudflare') {
      // The stored token can be rolled in place from the org page.
      await card(page, w.kind).getByRole('button', { name: 'Rotate token for Cloudflare' }).click();
      await expect(page.getByRole('status')).toContainText('Rotated the Cloudflare token');
      await expect(card(page, w.kind).locator('.badge')).toHaveText(/Healthy|Degraded/);
    }
  });
}

test('an unknown or expired onboarding session says so and offers a new one', async ({ page, sandbox }) => {
  await open(page, `/orgs/${sandbox.demo.org_id}/cloud/cloud_aws?session=wiz_gone`);
  await expect(page.getByRole('alert')).toContainText('No such onboarding session');
  // A new one can be given up on: it leaves the list of sessions to resume.
  await page.getByRole('button', { name: /Start (the|a new) onboarding/ }).click();
  await expect(page).toHaveURL(/\?session=wiz_(?!gone)/);
  const id = new URL(page.url()).searchParams.get('session') ?? '';
  await page.getByRole('button', { name: 'Discard this session' }).click();
  await expect(page.getByText(`Discarded the onboarding session ${id}`)).toBeVisible();
  await expect(page.locator(`a[href="?session=${id}"]`)).toHaveCount(0);
});

test('hand-off: the customer’s cloud admin checks AWS from a link, the operator watches live, revokes and connects', async ({
  page,
  browser,
  sandbox,
}) => {
  // The fakes trust the demo org's subjects only, so the shared session is the demo org's ("org-a");
  // the orgs the sandbox seeds with links of their own stand for every "org-b".
  const org = sandbox.demo.org_id;
  await open(page, `/orgs/${org}/cloud/cloud_aws`);
  await page.getByRole('button', { name: /Start (the|a new) onboarding/ }).click();
  await expect(page).toHaveURL(/\?session=wiz_/);
  await step(page, 'bootstrap_artifacts').getByRole('button', { name: 'Generate artifacts' }).click();
  await expect(step(page, 'bootstrap_artifacts')).toContainText(`org:${org}:cloud_aws`);
  await page.getByRole('button', { name: "Share with the customer's cloud admin" }).click();
  const url = (await page.getByTestId('share-link').locator('pre').textContent())?.trim() ?? '';
  expect(url).toMatch(/\/handoff\/[A-Za-z0-9_-]{43}$/);
  const progress = page.getByTestId('handoff-progress');
  await expect(progress).toContainText('Identity check: not yet');

  // The customer: a browser of their own, no cookies, only the link.
  const theirs = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const customer = await theirs.newPage();
  await customer.goto(url);
  await customer.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
  await expect(customer.getByRole('heading', { level: 1 })).toHaveText('Set up AWS access');
  await expect(customer.locator('pre').first()).toContainText(`org:${org}:cloud_aws`);
  const html = await customer.content();
  for (const other of [
    'initech-labs',
    'umbrella-ai',
    'globex-research',
    'acme-ml',
    ...sandbox.admins.map((a) => a.username),
  ]) {
    expect(html).not.toContain(other);
  }
  await customer.getByRole('button', { name: 'Verify trust' }).click();
  await expect(customer.getByTestId('trust-result')).toContainText('The published issuer matches our keys.');

  // A role that does not trust us: the same actionable error as the wizard's, and the operator sees it.
  await customer.getByLabel('IAM role ARN').fill('arn:aws:iam::111122223333:role/not-there');
  await customer.getByRole('button', { name: 'Check identity and permissions' }).click();
  await expect(customer.getByRole('alert').first()).toContainText(`org:${org}:cloud_aws`);
  await expect(progress).toContainText('Identity check: failed');
  await expect(progress).toContainText('Values entered: yes');

  await customer.getByLabel('IAM role ARN').fill(sandbox.demo.cloud_aws.role_arn);
  await customer.getByRole('button', { name: 'Check identity and permissions' }).click();
  await expect(customer.getByTestId('principal')).toHaveText(/assumed-role/);
  await expect(customer.getByText('Everything checks out.')).toBeVisible();
  await capture(customer, 'handoff');

  // Without a reload: the operator's page shows it, prefilled; the link goes, connecting stays theirs.
  await expect(progress).toContainText('Permission check: passed');
  await expect(step(page, 'validate_identity').getByLabel('IAM role ARN')).toHaveValue(sandbox.demo.cloud_aws.role_arn);
  await page.getByRole('button', { name: /^Revoke/ }).click();
  await expect(page.getByRole('table', { name: 'Live hand-off links' })).toHaveCount(0);
  await customer.reload();
  await expect(customer.getByRole('heading', { level: 1 })).toHaveText('This link has expired or was revoked');
  expect(await customer.content()).not.toContain(`org:${org}`);
  await theirs.close();
  await step(page, 'connect').getByRole('button', { name: 'Connect AWS' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${org}#cloud_aws$`));
});
