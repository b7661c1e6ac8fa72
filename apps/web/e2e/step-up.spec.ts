import { type BrowserContext, test as base, type Page } from '@playwright/test';
import { capture, card, expect, open, secretsOf, signIn } from './support/helpers';
import { auditOf, type RunningSandbox, startSandbox } from './support/sandbox';
import { freshCode } from './support/totp';

// A sandbox of its own whose MFA goes stale after 5 s, so a step-up is certain and quick. Two
// admins, both signed in first: their MFA goes stale during one wait, and neither has to wait for
// a TOTP step the other used.
const MAX_AGE = 5;
const test = base;
test.describe.configure({ mode: 'serial' });

let sandbox: RunningSandbox;
let context: BrowserContext;
let page: Page;
/** The second admin's signed-in browser state, for the test without JavaScript. */
let second: Awaited<ReturnType<BrowserContext['storageState']>>;
/** When each admin last proved MFA (sign-in or step-up): a step-up is certain only after MAX_AGE. */
const mfaAt = [0, 0];
const bodies: string[] = [];
const record = (p: Page) =>
  p.on(
    'response',
    (r) =>
      void r.text().then(
        (b) => bodies.push(b),
        () => undefined,
      ),
  );

test.beforeAll(async ({ browser }) => {
  // On `localhost`: browsers refuse passkeys on an IP address (the passkey journey below).
  sandbox = await startSandbox({ stepUpMaxAge: MAX_AGE, admins: 2, consoleHost: 'localhost' });
  const m = sandbox.manifest;
  context = await browser.newContext({ baseURL: m.console_url });
  page = await context.newPage();
  record(page);
  const other = await browser.newContext({ baseURL: m.console_url });
  const otherPage = await other.newPage();
  record(otherPage);
  await Promise.all([signIn(page, m), signIn(otherPage, m, m.admins[1])]);
  mfaAt.fill(Date.now());
  second = await other.storageState();
  await other.close();
});

test.afterAll(async () => {
  await context?.close();
  await sandbox?.stop();
});

/** Until the admin's last MFA is older than the MFA max age. */
const stale = (admin: 0 | 1) =>
  new Promise((r) => setTimeout(r, Math.max(0, mfaAt[admin]! + (MAX_AGE + 1) * 1000 - Date.now())));

test('stale MFA: the step-up dialog appears, and after the code the connect is retried and succeeds', async () => {
  const m = sandbox.manifest;
  await stale(0);
  await open(page, '/orgs/stale-org/connect/huggingface');
  await page.getByLabel('Access token').fill(m.demo.huggingface.token);
  await page.getByLabel('Namespace').fill(m.demo.huggingface.namespace);
  await page.getByRole('button', { name: 'Validate and connect' }).click();

  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Connect Hugging Face for stale-org');
  await expect(dialog.getByLabel('Authentication code')).toBeFocused();
  await capture(page, 'step-up-dialog');

  await dialog.getByLabel('Authentication code').fill('000000');
  await dialog.getByRole('button', { name: 'Verify and continue' }).click();
  await expect(dialog.getByRole('alert')).toBeVisible();

  await dialog.getByLabel('Authentication code').fill(await freshCode(m.admin.totp_secret));
  await dialog.getByRole('button', { name: 'Verify and continue' }).click();
  await expect(page).toHaveURL(/\/orgs\/stale-org#huggingface$/);
  mfaAt[0] = Date.now();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status')).toContainText('Connected Hugging Face (demo-org)');
  await expect(card(page, 'huggingface').locator('.badge')).toHaveText(/Healthy/);
});

test('stale MFA without JavaScript: the /step-up page takes the code and replays the disconnect', async ({
  browser,
}) => {
  const m = sandbox.manifest;
  const plain = await browser.newContext({ baseURL: m.console_url, javaScriptEnabled: false, storageState: second });
  const p = await plain.newPage();
  record(p);
  await stale(1);
  await p.goto('/orgs/stale-org/disconnect/huggingface');
  await p.getByRole('button', { name: 'Disconnect Hugging Face' }).click();
  await expect(p).toHaveURL(/\/step-up$/);
  await expect(p.getByRole('heading', { level: 1 })).toHaveText("Confirm it's you");
  await expect(p.locator('main')).toContainText('Disconnect Hugging Face from stale-org');
  await capture(p, 'step-up-page-no-js', { axe: false });

  await p.getByRole('textbox', { name: 'Authentication code' }).fill(await freshCode(m.admins[1]!.totp_secret));
  await p.getByRole('button', { name: 'Verify and continue' }).click();
  await expect(p).toHaveURL(/\/orgs\/stale-org\/disconnect\/huggingface\?done=run_/);
  await expect(p.getByTestId('revocation-guidance')).toContainText('Access Tokens');
  await plain.close();
});

test('passkeys (Chromium virtual authenticator): enrol after a step-up, sign in with it, step up a mutation with it, remove it', async () => {
  const m = sandbox.manifest;
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });

  // Enrol: the MFA of this session is stale, so the step-up dialog comes first.
  await stale(0);
  await open(page, '/account');
  await page.getByLabel('Passkey name').fill('Virtual key');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(dialog).toContainText('Add a passkey to your account');
  await dialog.getByLabel('Authentication code').fill(await freshCode(m.admin.totp_secret));
  await dialog.getByRole('button', { name: 'Verify and continue' }).click();
  await expect(page.getByRole('status')).toContainText('Verified: add your passkey now.');
  await page.getByLabel('Passkey name').fill('Virtual key');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByRole('status')).toContainText('Added the passkey “Virtual key”.');
  await expect(page.getByRole('row', { name: /Virtual key/ })).toContainText('never');
  await capture(page, 'account');

  // Sign out, then back in with the passkey alone (username-less).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  await expect(page.locator('.who')).toContainText(m.admin.username);
  const passkeyAt = Date.now();

  // A mutation once that sign-in is stale: "Use a passkey" in the dialog, and the connect is replayed.
  await new Promise((r) => setTimeout(r, Math.max(0, passkeyAt + (MAX_AGE + 1) * 1000 - Date.now())));
  await open(page, '/orgs/passkey-org/connect/huggingface');
  await page.getByLabel('Access token').fill(m.demo.huggingface.token);
  await page.getByLabel('Namespace').fill(m.demo.huggingface.namespace);
  await page.getByRole('button', { name: 'Validate and connect' }).click();
  await expect(dialog).toContainText('Connect Hugging Face for passkey-org');
  await dialog.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page).toHaveURL(/\/orgs\/passkey-org#huggingface$/);
  await expect(page.getByRole('status')).toContainText('Connected Hugging Face (demo-org)');
  const [stepUp] = await auditOf(sandbox.manifestPath, 'auth.step_up');
  expect(stepUp).toMatchObject({
    outcome: 'success',
    detail: expect.objectContaining({ acr: 'phr', method: 'passkey' }),
  });

  // Remove it (a step-up with the passkey again if the last one went stale meanwhile).
  await open(page, '/account');
  await page.getByRole('button', { name: 'Remove Virtual key' }).click();
  const removed = page.getByRole('status').filter({ hasText: 'Removed the passkey' });
  await expect(removed.or(dialog)).toBeVisible();
  if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(removed).toBeVisible();
  await expect(page.getByText('No passkey yet.')).toBeVisible();
});

test('no secret came back while stepping up; signing out ends the session', async () => {
  const secrets = secretsOf(sandbox.manifest);
  expect(bodies.filter((b) => secrets.some((s) => b.includes(s)))).toEqual([]);

  // The step-up page itself (what the dialog is without JavaScript), scanned with script on.
  await open(page, '/step-up');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText("Confirm it's you");
  await capture(page, 'step-up-page');

  // The console keeps its sessions in the database: a restart signs nobody out.
  await sandbox.restartConsole();
  await open(page, '/');
  await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await context.cookies()).toEqual([]);
  await page.goto('/orgs/stale-org');
  await expect(page).toHaveURL(/\/login\?next=/);
  // The API ended the session too: its refresh tokens are revoked, not just forgotten.
  const [logout] = await auditOf(sandbox.manifestPath, 'auth.logout');
  expect(logout).toMatchObject({ actor: sandbox.manifest.admin.username, outcome: 'success', clientIp: '127.0.0.1' });
});

/** "Sign in with Demo IdP", then the demo IdP's own form; back on the console afterwards. */
/** Through the demo IdP (another site) and back, until the console shows the signed-in admin. */
async function ssoSignIn(p: Page, user: { username: string; password: string }): Promise<void> {
  await open(p, '/login');
  await p.getByRole('link', { name: 'Sign in with Demo IdP' }).click();
  await idpForm(p, user);
  await expect(p.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
}

async function idpForm(p: Page, user: { username: string; password: string }): Promise<void> {
  await expect(p.getByRole('heading', { name: 'Demo identity provider' })).toBeVisible();
  await p.getByLabel('Username').fill(user.username);
  await p.getByLabel('Password').fill(user.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

function ssoUser(name: string) {
  const u = sandbox.manifest.sso.users.find((x) => x.username === name);
  if (!u) throw new Error(`no demo SSO user ${name}`);
  return u;
}

test('SSO at the company IdP: sign-in, a stale MFA goes back with max_age=0 and the connect is replayed; a replayed or foreign callback is refused', async ({
  browser,
}) => {
  const m = sandbox.manifest;
  const user = ssoUser;
  const fresh = () => browser.newContext({ baseURL: m.console_url });

  const ctx = await fresh();
  const p = await ctx.newPage();
  await ssoSignIn(p, user('platform-admin'));
  const ssoAt = Date.now();

  // Stale from this SSO sign-in on, not from the TOTP sign-in the other tests share.
  await new Promise((r) => setTimeout(r, Math.max(0, ssoAt + (MAX_AGE + 1) * 1000 - Date.now())));
  await open(p, '/orgs/sso-org/connect/huggingface');
  await p.getByLabel('Access token').fill(m.demo.huggingface.token);
  await p.getByLabel('Namespace').fill(m.demo.huggingface.namespace);
  const toIdp = p.waitForRequest((r) => r.url().startsWith(`${m.sso.issuer}/auth`));
  const callback = p.waitForRequest((r) => r.url().includes('/login/sso/callback'));
  await p.getByRole('button', { name: 'Validate and connect' }).click();
  const auth = new URL((await toIdp).url());
  expect(auth.searchParams.get('max_age')).toBe('0');
  expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
  await idpForm(p, user('platform-admin'));
  await expect(p).toHaveURL(/\/orgs\/sso-org#huggingface$/);
  await expect(p.getByRole('status')).toContainText('Connected Hugging Face (demo-org)');
  const [outcome] = await auditOf(sandbox.manifestPath, 'integrations.connect.huggingface');
  expect(outcome).toMatchObject({
    actor: `${m.sso.issuer}#platform-admin`,
    orgId: 'sso-org',
    outcome: 'success',
    detail: expect.objectContaining({ role: 'admin:cluster', role_via: 'groups:platform-admins' }),
  });

  // The same callback again (its code already redeemed, its state used): refused, nothing signed in.
  const replay = await fresh();
  const r = await replay.newPage();
  await r.goto((await callback).url());
  await expect(r).toHaveURL(/\/login$/);
  await expect(r.getByRole('alert')).toContainText('No sign-in was started from this browser session');
  // A sign-in in flight, answered with another sign-in's code and state: refused.
  await open(r, '/login');
  await r.getByRole('link', { name: 'Sign in with Demo IdP' }).click();
  await expect(r.getByRole('heading', { name: 'Demo identity provider' })).toBeVisible();
  await r.goto((await callback).url());
  await expect(r).toHaveURL(/\/login$/);
  await expect(r.getByRole('alert')).toContainText('state mismatch');
  await replay.close();

  // The same user in a second browser: both sessions listed; signing out everywhere ends both.
  const twin = await fresh();
  const t = await twin.newPage();
  await ssoSignIn(t, user('platform-admin'));
  await p.getByRole('link', { name: 'Account', exact: true }).click();
  await p.getByRole('link', { name: 'Your console sessions' }).click();
  await expect(p.getByRole('heading', { level: 1 })).toHaveText('Your console sessions');
  const rows = p.locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: '(this session)' })).toHaveCount(1);
  await p.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(p).toHaveURL(/\/login$/);
  await t.goto('/orgs/sso-org');
  await expect(t).toHaveURL(/\/login\?next=/);
  const [everywhere] = await auditOf(sandbox.manifestPath, 'sessions.signOutEverywhere');
  expect(everywhere).toMatchObject({ actor: `${m.sso.issuer}#platform-admin`, outcome: 'success' });
  await twin.close();
  await ctx.close();
});

test('SSO roles and MFA: a user without MFA in amr is refused at step-up with what the IdP must send; an org admin by group sees only its org', async ({
  browser,
}) => {
  const m = sandbox.manifest;
  const user = ssoUser;
  const fresh = () => browser.newContext({ baseURL: m.console_url });

  // A user whose IdP sign-in has no second factor can read, but every change is refused, saying why.
  const weak = await fresh();
  const w = await weak.newPage();
  await ssoSignIn(w, user('no-mfa'));
  await open(w, '/orgs/sso-org');
  await w
    .getByRole('button', { name: /Re-check/ })
    .first()
    .click();
  await idpForm(w, user('no-mfa'));
  await expect(w).toHaveURL(/\/step-up$/);
  await expect(w.getByRole('alert')).toContainText('without multi-factor authentication (amr: pwd)');
  await expect(w.getByRole('alert')).toContainText('"amr" claim containing one of mfa, otp, hwk, swk');
  await weak.close();

  // An org admin by group sees only its org, in the list and by URL.
  const org = await fresh();
  const o = await org.newPage();
  await ssoSignIn(o, user('acme-admin'));
  await expect(o.getByRole('link', { name: m.demo.org_id })).toBeVisible();
  await expect(o.getByRole('link', { name: 'sso-org' })).toHaveCount(0);
  // Its summary is of its org, without the platform-wide bulk re-check.
  await expect(o.getByRole('region', { name: 'Your organisations' })).toBeVisible();
  await expect(o.getByRole('region', { name: 'Platform' })).toHaveCount(0);
  await expect(o.getByRole('button', { name: 'Re-check every link needing attention' })).toHaveCount(0);
  await o.goto('/orgs/sso-org');
  await expect(o.getByRole('heading', { level: 1 })).toHaveText('Not found');
  await org.close();
});
