import { AppError } from '@alphaswarm/api';
import { type Database, listAdminUsers, openDatabase, type Store } from '@alphaswarm/db';
import { type Command, Option } from 'commander';
import QRCode from 'qrcode';
import { ADMIN_SCOPES } from '../auth/idp/schemas';
import { createAdminUser, type Enrolment, resetAdminMfa, setAdminDisabled } from '../auth/idp/users';
import type { Env } from '../env';
import { loadKeyring } from '../runtime/keyring';
import {
  audited,
  CliError,
  type CliIo,
  describeError,
  exitCodeOf,
  loadEnv,
  openExistingStore,
  openForReading,
  readFailure,
  io as stdio,
} from './context';

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export interface AdminUserCommandDeps {
  io?: CliIo;
  /** Configuration (default: parsed from the process environment). */
  env?: () => Env;
  /** Where `--password-stdin` and the interactive prompt read (default: process.stdin). */
  stdin?: Input;
  /** Where the prompt is written (default: process.stderr, so stdout stays parseable). */
  promptOut?: NodeJS.WritableStream;
  now?: () => Date;
}

/** Operator messages for the domain errors the user functions raise. */
function cliErrorOf(error: unknown): unknown {
  return error instanceof AppError ? new CliError(error.message) : error;
}

async function readStdinPassword(input: Input): Promise<string> {
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
function promptHidden(prompt: string, input: Input, output: NodeJS.WritableStream): Promise<string> {
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

async function askPassword(
  deps: Required<Pick<AdminUserCommandDeps, 'stdin' | 'promptOut'>>,
  fromStdin: boolean,
): Promise<string> {
  if (fromStdin) return readStdinPassword(deps.stdin);
  const first = await promptHidden('Password (at least 12 characters): ', deps.stdin, deps.promptOut);
  const second = await promptHidden('Repeat the password: ', deps.stdin, deps.promptOut);
  if (first !== second) throw new CliError('The two passwords differ; nothing was created.');
  return first;
}

async function printEnrolment(io: CliIo, enrolment: Enrolment): Promise<void> {
  const qr = await QRCode.toString(enrolment.uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
  io.out('Enrol this secret in an authenticator app now (scan the QR code, or type the secret):');
  io.out('');
  io.out(`  secret:  ${enrolment.secret}`);
  io.out(`  uri:     ${enrolment.uri}`);
  io.out('');
  for (const line of qr.replace(/\n+$/, '').split('\n')) io.out(line);
  io.out('');
  io.out('The secret is shown this once and stored only encrypted. Sign in: docs/embedded-idp.md.');
}

/** The key that encrypts TOTP secrets must be the server's: an ephemeral one would lose them. */
function keyringOf(io: CliIo, env: Env) {
  const info = loadKeyring(env);
  if (info.ephemeral) {
    throw new CliError(
      'ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: the TOTP secret would be encrypted with a throwaway key the server cannot read. Set the same key the server uses (generate one with `alphaswarm-admin generate-key`).',
    );
  }
  if (info.warning) io.err(info.warning);
  return info.keyring;
}

async function withStore<T>(opening: Promise<Store>, work: (db: Database) => Promise<T>): Promise<T> {
  const store = await opening;
  try {
    return await work(store.db);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    await store.close();
  }
}

/**
 * create-admin, reset-mfa, disable-admin, enable-admin, list-admins: the embedded IdP's users.
 * Every change is audited as `cli:<os user>`; passwords and TOTP secrets never reach the audit.
 */
export function registerAdminUserCommands(program: Command, deps: AdminUserCommandDeps = {}): void {
  const io = deps.io ?? stdio;
  const env = deps.env ?? loadEnv;
  const now = deps.now ?? (() => new Date());
  const stdin = deps.stdin ?? (process.stdin as Input);
  const promptOut = deps.promptOut ?? process.stderr;

  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (error) {
        io.err(`error: ${describeError(cliErrorOf(error))}`);
        process.exitCode = exitCodeOf(cliErrorOf(error));
      }
    };

  program
    .command('create-admin')
    .description(
      'Create an embedded-IdP admin: asks for a password, prints the TOTP secret, otpauth:// URI and a QR code.',
    )
    .argument('<username>', 'login name (a-z, 0-9, ".", "_", "@", "-")')
    .addOption(
      new Option(
        '--scopes <scopes...>',
        `scopes the admin gets: ${ADMIN_SCOPES.join(', ')} or admin:org:<org_id> (that org only)`,
      ).default(['admin:cluster']),
    )
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(
      action(async (username: string, opts: { scopes: string[]; passwordStdin?: boolean }) => {
        const config = env();
        const keyring = keyringOf(io, config);
        const password = await askPassword({ stdin, promptOut }, Boolean(opts.passwordStdin));
        const enrolment = await withStore(openDatabase(config.database), (db) =>
          audited(
            db,
            'admin_users.create',
            { username, scopes: opts.scopes },
            () => createAdminUser(db, keyring, { username, password, scopes: opts.scopes, now: now() }),
            () => ({}),
          ),
        );
        io.out(`Created admin "${enrolment.username}" with scope ${enrolment.scopes.join(' ')}.`);
        if (!config.embeddedIdp) {
          io.err(
            'note: the embedded IdP is off in this configuration; set ALPHASWARM_ADMIN_EMBEDDED_IDP=on for this admin to sign in.',
          );
        }
        await printEnrolment(io, enrolment);
      }),
    );

  program
    .command('reset-mfa')
    .description('Give an admin a new TOTP secret (lost phone): the old one and every open session stop working.')
    .argument('<username>')
    .action(
      action(async (username: string) => {
        const config = env();
        const keyring = keyringOf(io, config);
        const enrolment = await withStore(openExistingStore(config), (db) =>
          audited(
            db,
            'admin_users.reset_mfa',
            { username },
            () => resetAdminMfa(db, keyring, username, now()),
            () => ({}),
          ),
        );
        io.out(`New TOTP secret for "${enrolment.username}"; the previous one no longer works.`);
        await printEnrolment(io, enrolment);
      }),
    );

  for (const [command, disabled, description] of [
    [
      'disable-admin',
      true,
      'Stop an admin from signing in, stepping up or refreshing (access tokens already issued expire within 10 minutes).',
    ],
    ['enable-admin', false, 'Re-enable a disabled admin; also lifts a lockout after failed attempts.'],
  ] as const) {
    program
      .command(command)
      .description(description)
      .argument('<username>')
      .action(
        action(async (username: string) => {
          const config = env();
          await withStore(openExistingStore(config), (db) =>
            audited(
              db,
              disabled ? 'admin_users.disable' : 'admin_users.enable',
              { username },
              () => setAdminDisabled(db, username, disabled, now()),
              () => ({}),
            ),
          );
          io.out(`${disabled ? 'Disabled' : 'Enabled'} admin "${username}".`);
        }),
      );
  }

  program
    .command('list-admins')
    .description('List embedded-IdP admins with their scopes and state.')
    .action(
      action(async () => {
        const config = env();
        const store = await openForReading(io, config);
        const rows = await withStore(Promise.resolve(store), (db) =>
          listAdminUsers(db).catch((error) => Promise.reject(readFailure(store, error))),
        );
        if (rows.length === 0) io.out('No admins yet: create one with `alphaswarm-admin create-admin <username>`.');
        const at = now().getTime();
        for (const row of rows) {
          const state = row.disabledAt
            ? `disabled since ${row.disabledAt}`
            : row.lockedUntil && Date.parse(row.lockedUntil) > at
              ? `locked until ${row.lockedUntil}`
              : 'active';
          io.out(`${row.username}\t${row.scopes}\t${state}\tcreated ${row.createdAt}`);
        }
      }),
    );
}
