// create-admin, reset-mfa, change-password, disable-admin, enable-admin, list-admins: the embedded IdP's users.
// Every change is audited as `cli:<os user>`; passwords and TOTP secrets never reach the audit.
import { type Database, listAdminUsers, openDatabase, type Store } from '@alphaswarm/db';
import QRCode from 'qrcode';
import { PASSWORD_MIN_LENGTH } from '../auth/idp/schemas';
import {
  changeAdminPassword,
  createAdminUser,
  type Enrolment,
  resetAdminMfa,
  setAdminDisabled,
} from '../auth/idp/users';
import type { Env } from '../env';
import { loadKeyring } from '../runtime/keyring';
import { audited, CliError, loadEnv, openExistingStore, openForReading, readFailure } from './context';
import type { Cli, CliInput, CliOutput } from './io';

async function readStdinPassword(input: CliInput): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > 4096) throw new CliError('The password on stdin is longer than 4096 bytes.');
    chunks.push(buf);
  }
  const value = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (value === '') throw new CliError('--password-stdin read an empty password.');
  return value;
}

/** Read a line from a terminal without echoing it. */
function promptHidden(prompt: string, input: CliInput, output: CliOutput): Promise<string> {
  if (!input.isTTY || !input.setRawMode) {
    return Promise.reject(new CliError('No terminal to ask for the password on: pipe it in with --password-stdin.'));
  }
  output.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      input.setRawMode?.(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CliError('Cancelled.', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** From stdin, or asked twice on the terminal (the prompt on stderr, so stdout stays parseable). */
async function askPassword(cli: Cli, fromStdin: boolean): Promise<string> {
  const { stdin, stderr } = cli.io;
  if (fromStdin) return readStdinPassword(stdin);
  const first = await promptHidden(`Password (at least ${PASSWORD_MIN_LENGTH} characters): `, stdin, stderr);
  const second = await promptHidden('Repeat the password: ', stdin, stderr);
  if (first !== second) throw new CliError('The two passwords differ; nothing was changed.');
  return first;
}

async function printEnrolment(cli: Cli, enrolment: Enrolment): Promise<void> {
  const qr = await QRCode.toString(enrolment.uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
  cli.out('Enrol this secret in an authenticator app now (scan the QR code, or type the secret):');
  cli.out('');
  cli.out(`  secret:  ${enrolment.secret}`);
  cli.out(`  uri:     ${enrolment.uri}`);
  cli.out('');
  for (const line of qr.replace(/\n+$/, '').split('\n')) cli.out(line);
  cli.out('');
  cli.out('The secret is shown this once and stored only encrypted. Sign in: docs/embedded-idp.md.');
}

/** The key that encrypts TOTP secrets must be the server's: an ephemeral one would lose them. */
function keyringOf(cli: Cli, env: Env) {
  const info = loadKeyring(env);
  if (info.ephemeral) {
    throw new CliError(
      'ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: the TOTP secret would be encrypted with a throwaway key the server cannot read. Set the same key the server uses (generate one with `alphaswarm-admin generate-key`).',
    );
  }
  if (info.warning) cli.err(info.warning);
  return info.keyring;
}

async function withStore<T>(opening: Promise<Store>, work: (db: Database) => Promise<T>): Promise<T> {
  const store = await opening;
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}

export async function createAdminCommand(
  cli: Cli,
  username: string,
  opts: { scopes: string[]; passwordStdin?: boolean },
): Promise<void> {
  const config = loadEnv(cli);
  const keyring = keyringOf(cli, config);
  const password = await askPassword(cli, Boolean(opts.passwordStdin));
  const enrolment = await withStore(openDatabase(config.database), (db) =>
    audited(
      cli,
      db,
      'admin_users.create',
      { username, scopes: opts.scopes },
      () =>
        createAdminUser(db, keyring, {
          username,
          password,
          scopes: opts.scopes,
          now: cli.now(),
          scryptN: config.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N,
        }),
      () => ({}),
    ),
  );
  cli.out(`Created admin "${enrolment.username}" with scope ${enrolment.scopes.join(' ')}.`);
  if (!config.embeddedIdp) {
    cli.err(
      'note: the embedded IdP is off in this configuration; set ALPHASWARM_ADMIN_EMBEDDED_IDP=on for this admin to sign in.',
    );
  }
  await printEnrolment(cli, enrolment);
}

export async function resetMfaCommand(cli: Cli, username: string): Promise<void> {
  const config = loadEnv(cli);
  const keyring = keyringOf(cli, config);
  const enrolment = await withStore(openExistingStore(config), (db) =>
    audited(
      cli,
      db,
      'admin_users.reset_mfa',
      { username },
      () => resetAdminMfa(db, keyring, username, cli.now()),
      () => ({}),
    ),
  );
  cli.out(
    `New TOTP secret for "${enrolment.username}"; the previous one, their passkeys and recovery codes no longer work.`,
  );
  await printEnrolment(cli, enrolment);
}

export async function changePasswordCommand(
  cli: Cli,
  username: string,
  opts: { passwordStdin?: boolean },
): Promise<void> {
  const config = loadEnv(cli);
  const password = await askPassword(cli, Boolean(opts.passwordStdin));
  await withStore(openExistingStore(config), (db) =>
    audited(
      cli,
      db,
      'admin_users.change_password',
      { username },
      () => changeAdminPassword(db, username, password, cli.now(), config.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N),
      () => ({}),
    ),
  );
  cli.out(`Changed the password of "${username}"; their open sessions no longer work.`);
}

/** disable-admin / enable-admin. */
export async function setDisabledCommand(cli: Cli, username: string, disabled: boolean): Promise<void> {
  const config = loadEnv(cli);
  await withStore(openExistingStore(config), (db) =>
    audited(
      cli,
      db,
      disabled ? 'admin_users.disable' : 'admin_users.enable',
      { username },
      () => setAdminDisabled(db, username, disabled, cli.now()),
      () => ({}),
    ),
  );
  cli.out(`${disabled ? 'Disabled' : 'Enabled'} admin "${username}".`);
}

export async function listAdminsCommand(cli: Cli): Promise<void> {
  const config = loadEnv(cli);
  const store = await openForReading(cli, config);
  const rows = await withStore(Promise.resolve(store), (db) =>
    listAdminUsers(db).catch((error) => Promise.reject(readFailure(store, error))),
  );
  if (rows.length === 0) cli.out('No admins yet: create one with `alphaswarm-admin create-admin <username>`.');
  const at = cli.now().getTime();
  for (const row of rows) {
    const state = row.disabledAt
      ? `disabled since ${row.disabledAt}`
      : row.lockedUntil && Date.parse(row.lockedUntil) > at
        ? `locked until ${row.lockedUntil}`
        : 'active';
    cli.out(`${row.username}\t${row.scopes}\t${state}\tcreated ${row.createdAt}`);
  }
}
