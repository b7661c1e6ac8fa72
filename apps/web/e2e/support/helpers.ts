import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import type { AxeResults } from 'axe-core';
import { type Manifest, readManifest, type SandboxAdmin } from './sandbox';
import { freshCode } from './totp';

export const SCREENSHOTS = join(import.meta.dirname, '../../test-results/screenshots');

/** Go somewhere and wait until the page is hydrated (enhanced forms, step-up dialog ready). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
let axeSource: string | undefined;

/**
 * axe-core, evaluated into the page when a scan needs it (DevTools evaluation is not subject to the
 * page's CSP): about half a second per scan. Loading it into every document as an init script
 * instead cost a fifth of the browser suite's time, since most documents are never scanned.
 */
async function loadAxe(page: Page): Promise<void> {
  if (await page.evaluate(() => 'axe' in window)) return;
  axeSource ??= readFileSync(AXE_SOURCE, 'utf8');
  await page.evaluate(axeSource);
}

/**
 * A full-page screenshot in test-results/screenshots, when asked for (E2E_SCREENSHOTS=1): encoding
 * them took 2 % and 16 % of the console project's CPU in two pairs of runs, and CI keeps only
 * printed output. A failing test gets its screenshot either way (playwright.config.ts).
 */
async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.E2E_SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * An axe-core scan with no serious or critical violation, then a screenshot (see above). Axe needs
 * script: pages of a JavaScript-disabled context get the screenshot only.
 */
export async function capture(page: Page, name: string, opts: { axe?: boolean } = {}): Promise<void> {
  if (opts.axe === false) {
    await screenshot(page, name);
    return;
  }
  await loadAxe(page);
  const results = await page.evaluate((tags) => {
    const { axe } = window as unknown as { axe: { run(c: Document, o: unknown): Promise<AxeResults> } };
    return axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  }, AXE_TAGS);
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
  await screenshot(page, name);
}

/** Password, then TOTP, through the login page, as the sandbox's first admin unless told otherwise. */
export async function signIn(page: Page, m: Manifest, who: SandboxAdmin = m.admin): Promise<void> {
  await open(page, '/login');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const code = page.getByLabel('Authentication code');
  await expect(code).toBeVisible();
  await code.fill(await freshCode(who.totp_secret));
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
    ...m.admins.flatMap((a) => [a.password, a.totp_secret]),
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

interface WorkerFixtures {
  /** This worker's signed-in browser state (a file). */
  signedIn: string;
}

/**
 * Every test runs signed in to a console session of its worker's own: worker N signs in once as
 * the sandbox's admin N+1 (admin 1 is left to the sign-in spec), so parallel tests share no
 * session (its one-shot notices and pending step-ups) and no TOTP step.
 *
 * Every test records the responses its page gets and fails if any carries a secret, so "no
 * secret in any page HTML or network response" holds across the whole suite, not just one test;
 * likewise for script errors and CSP violations.
 */
export const test = base.extend<Fixtures, WorkerFixtures>({
  signedIn: [
    async ({ browser }, use, workerInfo) => {
      const m = readManifest();
      // Beside the sandbox's files: one run's sessions never leak into the next run.
      const file = join(dirname(process.env.E2E_SANDBOX ?? ''), 'e2e-auth', `worker-${workerInfo.parallelIndex}.json`);
      // A worker started after another one with the same index failed reuses its session.
      if (!existsSync(file)) {
        const admin = m.admins[workerInfo.parallelIndex + 1];
        if (!admin) throw new Error(`the sandbox has no admin for parallel worker ${workerInfo.parallelIndex}`);
        const page = await browser.newPage({ baseURL: m.console_url });
        await signIn(page, m, admin);
        mkdirSync(dirname(file), { recursive: true });
        await page.context().storageState({ path: file });
        await page.context().close();
      }
      await use(file);
    },
    { scope: 'worker' },
  ],
  storageState: ({ signedIn }, use) => use(signedIn),
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
        // The build's hashed assets were written before the sandbox existed: no secret can be in
        // them, and fetching every script's body back over the DevTools protocol is not free.
        if (new URL(res.url()).pathname.startsWith('/_app/immutable/')) return;
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
