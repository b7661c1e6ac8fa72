import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import { type Manifest, readManifest } from './sandbox';
import { freshCode } from './totp';

export const SCREENSHOTS = join(import.meta.dirname, '../../test-results/screenshots');

/** Go somewhere and wait until the page is hydrated (enhanced forms, step-up dialog ready). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/**
 * An axe-core scan with no serious or critical violation, then a full-page screenshot. Axe needs
 * script: pages of a JavaScript-disabled context get the screenshot only.
 */
export async function capture(page: Page, name: string, opts: { axe?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (opts.axe === false) {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    return;
  }
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const blocking = results.violations
    // `region` (moderate) too: every piece of content must sit in a landmark, the sandbox banner included.
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id === 'region')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
  expect(blocking, `accessibility violations on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Password, then TOTP, through the login page. */
export async function signIn(page: Page, m: Manifest): Promise<void> {
  await open(page, '/login');
  await page.getByLabel('Username').fill(m.admin.username);
  await page.getByLabel('Password').fill(m.admin.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const code = page.getByLabel('Authentication code');
  await expect(code).toBeVisible();
  await code.fill(await freshCode(m.admin.totp_secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
}

/** Every value that must never come back from the console: tokens, PATs, the admin's password and TOTP secret. */
export function secretsOf(m: Manifest): string[] {
  return [
    m.demo.huggingface.token,
    m.demo.huggingface.bad_token,
    m.demo.docker_hub.pat,
    m.demo.cloud_cloudflare.api_token,
    m.admin.password,
    m.admin.totp_secret,
  ];
}

/** Everything the browser keeps: cookies, local and session storage, IndexedDB names. */
export async function browserStorage(page: Page): Promise<string> {
  const state = await page.context().storageState();
  const session = await page.evaluate(() => {
    const out: Record<string, string> = {};
    for (let i = 0; i < sessionStorage.length; i++) {
      const k = sessionStorage.key(i)!;
      out[k] = sessionStorage.getItem(k) ?? '';
    }
    return out;
  });
  const idb = await page.evaluate(async () => (await indexedDB.databases?.())?.map((d) => d.name) ?? []);
  return JSON.stringify({ state, session, idb });
}

interface Fixtures {
  sandbox: Manifest;
  /** Bodies of every response the page received during the test (checked for secrets after it). */
  responses: { url: string; body: string }[];
}

/**
 * Every test records the responses its page gets and fails if any carries a secret, so "no
 * secret in any page HTML or network response" holds across the whole suite, not just one test;
 * likewise for script errors and CSP violations.
 */
export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
  sandbox: async ({}, use) => {
    await use(readManifest());
  },
  responses: [
    async ({ page, sandbox }, use) => {
      const seen: { url: string; body: string }[] = [];
      const pending: Promise<void>[] = [];
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
      });
      page.on('response', (res) => {
        pending.push(
          res
            .text()
            .then((body) => {
              seen.push({ url: res.url(), body });
            })
            .catch(() => undefined),
        );
      });
      await use(seen);
      await Promise.all(pending);
      const secrets = secretsOf(sandbox);
      const leaks = seen.flatMap((r) => secrets.filter((s) => r.body.includes(s)).map(() => r.url));
      expect(leaks, 'responses that carried a secret').toEqual([]);
      expect(problems, 'script errors or CSP violations').toEqual([]);
    },
    { auto: true },
  ],
});

/** The Hugging Face wizard, start to finish, with the demo token. */
export async function connectHuggingFace(page: Page, m: Manifest, org: string): Promise<void> {
  await open(page, `/orgs/${org}/connect/huggingface`);
  await page.getByLabel('Access token').fill(m.demo.huggingface.token);
  await page.getByLabel('Namespace').fill(m.demo.huggingface.namespace);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${org}#huggingface$`));
  await expect(page.getByRole('status')).toContainText('Connected Hugging Face (demo-org)');
}

/** The card of one kind on an org page. */
export function card(page: Page, kind: string) {
  return page.locator(`li.card[data-kind="${kind}"]`);
}

export { expect };
