import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deleteLink, generateKey, isoNow, Keyring, openStore, sealSecret, upsertLink } from '@alphaswarm/db';
import { capture, connectHuggingFace, expect, open, test as shared, signIn } from './support/helpers';
import { type RunningSandbox, startSandbox } from './support/sandbox';

/**
 * A sandbox of this file's own: it exports the whole store and dry-runs its import, which must see
 * no other spec connect or disconnect meanwhile. So it runs beside the others instead of after them.
 */
const test = shared.extend<object, { own: RunningSandbox }>({
  own: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
    async ({}, use) => {
      const sandbox = await startSandbox({ admins: 1 });
      await use(sandbox);
      await sandbox.stop();
    },
    { scope: 'worker' },
  ],
  signedIn: [
    async ({ browser, own }, use) => {
      const page = await browser.newPage({ baseURL: own.manifest.console_url });
      await signIn(page, own.manifest);
      const file = join(dirname(own.manifestPath), 'e2e-auth', 'store.json');
      mkdirSync(dirname(file), { recursive: true });
      await page.context().storageState({ path: file });
      await page.context().close();
      await use(file);
    },
    { scope: 'worker' },
  ],
  sandbox: ({ own }, use) => use(own.manifest),
  baseURL: ({ own }, use) => use(own.manifest.console_url),
});

test('audit timeline: filters, run ids linkable, runs grouped, CSV/JSONL export of the view, hash chain verified', async ({
  page,
  sandbox,
}) => {
  await connectHuggingFace(page, sandbox, 'audit-org');
  await open(page, '/audit');
  await expect(page.locator('li.event').first()).toBeVisible();
  await capture(page, 'audit');

  await page.getByLabel('Org id').fill('audit-org');
  await page.getByLabel('Outcome').selectOption('success');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/org_id=audit-org/);
  const events = page.locator('li.event');
  await expect(events).toHaveCount(1);
  await expect(page.locator('li.entry').first()).toContainText('integrations.connect.huggingface');

  const runLink = events.first().getByRole('link', { name: /^run_/ });
  const runId = (await runLink.textContent())?.trim() ?? '';
  await runLink.click();
  await expect(page).toHaveURL(new RegExp(`run_id=${runId}`));
  await expect(page.getByLabel('Run id')).toHaveValue(runId);
  await expect(page.locator('li.event')).toHaveCount(2);
  // The run's started and outcome rows are one entry.
  const entry = page.locator('li.entry');
  await expect(entry).toHaveCount(1);
  await expect(entry.locator(':scope > p .badge')).toHaveText('success');
  await expect(entry.locator('li.event .badge')).toHaveText(['attempt: started', 'outcome: success']);

  // The filtered view exports as CSV and JSONL, each line with its link.
  const download = async (name: string) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
    return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
  };
  const csv = await download('CSV');
  expect(csv.name).toMatch(/^audit-.*\.csv$/);
  const rows = csv.text.trim().split('\n');
  expect(rows[0]).toBe(
    'seq,id,run_id,at,actor,client_ip,action,phase,outcome,org_id,kind,credential_key,detail,prev_link,link,key_id',
  );
  expect(rows).toHaveLength(3);
  const jsonl = await download('JSONL');
  const records = jsonl.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { run_id: string; outcome: string; link: string; prev_link: string });
  expect(records.map((r) => [r.run_id, r.outcome])).toEqual([
    [runId, 'started'],
    [runId, 'success'],
  ]);
  expect(records[1]?.link).toMatch(/^[0-9a-f]{64}$/);

  await page.getByRole('button', { name: 'Verify the hash chain' }).click();
  await expect(page.getByRole('status')).toContainText('Chain intact');
});

test('store: keyring fingerprint, readiness list, export download, import dry run', async ({ page, sandbox }) => {
  await open(page, '/store');
  await expect(page.getByRole('region', { name: 'Keyring' })).toContainText(/fp_[0-9a-f]+ \(encrypts\)/);
  await expect(page.getByRole('region', { name: 'Production readiness' })).toContainText('ALPHASWARM_ENV');
  await capture(page, 'store');

  // The sandbox seeds one link whose secret no configured key reads (initech-labs, "needs reconnect"):
  // a plain export refuses and names it; allowing unreadable secrets exports them as they are.
  await page.getByRole('button', { name: 'Export the store' }).click();
  await expect(page.locator('#allow-unreadable-error')).toContainText('huggingface:org:initech-labs');
  await page.getByRole('checkbox', { name: /Export secrets that no configured key decrypts/ }).check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export the store' }).click(),
  ]);
  const exported = readFileSync(await download.path(), 'utf8');
  const parsed = JSON.parse(exported) as {
    format: string;
    integrations: { org_id: string; kind: string; secret: string | null }[];
  };
  expect(parsed.format).toBe('alphaswarm.integrations');
  expect(parsed.integrations.length).toBeGreaterThan(1);
  for (const secret of [sandbox.demo.huggingface.token, sandbox.demo.docker_hub.pat])
    expect(exported).not.toContain(secret);

  // Importing it back names the record whose secret this keyring cannot read, and imports nothing.
  await page
    .getByLabel('Export file')
    .setInputFiles({ name: 'export.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
  await page.getByLabel('When a link already exists').selectOption('skip');
  await page.getByRole('button', { name: 'Import' }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toContainText('Dry-run report: export.json');
  await expect(report).toContainText('Nothing was imported.');
  await expect(report).toContainText('huggingface:org:initech-labs');

  // Without it, the file is valid and every record already exists.
  const readable = {
    ...parsed,
    integrations: parsed.integrations.filter((record) => record.org_id !== 'initech-labs'),
  };
  await page.getByLabel('Export file').setInputFiles({
    name: 'readable.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(readable)),
  });
  await page.getByLabel('When a link already exists').selectOption('skip');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(report).toContainText('Dry-run report: readable.json');
  await expect(report).toContainText('The file is valid.');
  await expect(report).toContainText(`skipped ${readable.integrations.length}`);

  await page
    .getByLabel('Export file')
    .setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"nope"}') });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(report).toContainText('Nothing was imported.');
  await expect(report.getByRole('table', { name: 'Problems' })).toBeVisible();
  await capture(page, 'store-import-report');
});

test('store: an export with a secret no configured key reads is refused, naming the fingerprint, unless allowed', async ({
  page,
  sandbox,
  own,
}) => {
  // A link sealed under a key the sandbox does not have, written straight into its database, beside the
  // sandbox's own seeded unreadable link (initech-labs).
  const store = openStore(join(dirname(own.manifestPath), 'admin.db'));
  const foreign = Keyring.fromEnv(generateKey());
  try {
    await upsertLink(
      store.db,
      {
        orgId: 'unreadable-org',
        kind: 'huggingface',
        namespace: 'lost',
        status: 'healthy',
        error: null,
        metadata: {},
        secret: sealSecret(foreign, { token: sandbox.demo.huggingface.token }),
        expiresAt: null,
      },
      isoNow(new Date()),
    );
    await open(page, '/store');
    const fingerprint = (
      await page.getByRole('region', { name: 'Keyring' }).locator('code').first().textContent()
    )?.trim();
    await page.getByRole('button', { name: 'Export the store' }).click();
    const refusal = page.locator('#allow-unreadable-error');
    await expect(refusal).toContainText(
      `2 stored secrets cannot be decrypted with the configured key (fingerprint ${fingerprint}): huggingface:org:initech-labs, huggingface:org:unreadable-org; nothing was exported.`,
    );
    await capture(page, 'store-export-refused');

    const allow = page.getByRole('checkbox', { name: /Export secrets that no configured key decrypts/ });
    await allow.check();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export the store' }).click(),
    ]);
    const exported = readFileSync(await download.path(), 'utf8');
    expect(exported).toContain('huggingface:org:unreadable-org');
    expect(exported).not.toContain(sandbox.demo.huggingface.token);
  } finally {
    await deleteLink(store.db, 'unreadable-org', 'huggingface');
    store.close();
  }
});

test('store: an upload over the console body limit is refused, naming the limit and the CLI', async ({ page }) => {
  await open(page, '/store');
  await expect(page.getByText('Uploads up to 1 MiB here')).toBeVisible();
  const big = Buffer.from(JSON.stringify({ format: 'alphaswarm.integrations', padding: 'x'.repeat(1_200_000) }));
  await page.getByLabel('Export file').setInputFiles({ name: 'big.json', mimeType: 'application/json', buffer: big });
  await page.getByRole('button', { name: 'Import' }).click();
  const error = page.locator('#file-error');
  await expect(error).toContainText("The upload is over the console's limit of 1 MiB (BODY_SIZE_LIMIT)");
  await expect(error).toContainText('alphaswarm-admin import FILE');
  await expect(page.getByTestId('import-report')).toHaveCount(0);
});
