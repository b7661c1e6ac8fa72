/**
 * alphaswarm-admin: the operator CLI. Every command prints its result on stdout, and on failure
 * exactly one `error: <reason>` line on stderr with a non-zero exit code.
 *
 * This module only declares the commands: each one loads its implementation when it runs, so
 * `--help` or `generate-key` never pays for the database, zod, the HTTP stack or the cloud SDKs.
 */

import type { OnConflict } from '@alphaswarm/contracts';
import { Command, CommanderError, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { type ADMIN_SCOPES, PASSWORD_RULES } from '../auth/idp/schemas';
import type { AuditExportOptions, AuditVerifyOptions } from './audit';
import { Cli, type CliIo } from './io';

// The choices are spelled here so that declaring them loads no schema; the compiler keeps them in step.
const ON_CONFLICT = ['fail', 'skip', 'replace'] as const satisfies readonly OnConflict[];
const SCOPES = ['admin:cluster', 'admin:read'] as const satisfies (typeof ADMIN_SCOPES)[number][];
type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const _choicesComplete: [
  Exhaustive<OnConflict, (typeof ON_CONFLICT)[number]>,
  Exhaustive<(typeof ADMIN_SCOPES)[number], (typeof SCOPES)[number]>,
] = [true, true];

/**
 * Run one command line (`argv` without the node and script paths) against `io`; resolves to the
 * exit code. Nothing in here or in the commands touches `process`: the bin passes the process's io.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = new Cli(io);
  let exitCode = 0;
  const action =
    <A extends unknown[]>(work: (...args: A) => Promise<unknown>) =>
    async (...args: A): Promise<void> => {
      try {
        // A command that answers with an exit code (status: 1 means "something needs attention").
        const code = await work(...args);
        if (typeof code === 'number') exitCode = code;
      } catch (error) {
        const { describeError, exitCodeOf } = await import('./context');
        cli.err(`error: ${describeError(error)}`);
        exitCode = exitCodeOf(error);
      }
    };
  const program = buildProgram(cli, action);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // Help, --version and usage errors: commander has already written its text to io.
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  return exitCode;
}

type Action = <A extends unknown[]>(work: (...args: A) => Promise<unknown>) => (...args: A) => Promise<void>;

function buildProgram(cli: Cli, action: Action): Command {
  const { io } = cli;
  const program = new Command('alphaswarm-admin')
    .description(
      'Operate the account-integrations admin service. Configuration comes from ALPHASWARM_* environment variables.',
    )
    // Set before the subcommands are declared: they copy these settings.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => (io.stdout.isTTY ? (io.stdout.columns ?? 80) : 80),
      getErrHelpWidth: () => (io.stderr.isTTY ? (io.stderr.columns ?? 80) : 80),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .version(pkg.version, '--version', 'print the version');

  program
    .command('status')
    .description('List the links that need attention, most urgent first; exit 1 when there is any (2 on an error).')
    .option('--org <id>', 'only this organisation')
    .option('--json', 'print {needs_attention, links} as JSON')
    .action(
      action(async (opts: { org?: string; json?: boolean }) => {
        const [{ statusCommand }, { describeError, loadEnv }] = await Promise.all([
          import('./status'),
          import('./context'),
        ]);
        try {
          return await statusCommand(cli, loadEnv(cli), opts, cli.now());
        } catch (error) {
          cli.err(`error: ${describeError(error)}`);
          // 1 means "something needs attention": a command that could not look says so apart.
          return 2;
        }
      }),
    );

  program
    .command('serve')
    .description('Start the admin server (opens the database, imports the old JSON store on first start).')
    .action(action(async () => (await import('./serve')).serveCommand(cli)));

  program
    .command('migrate')
    .description(
      'Bring the database schema to this build (PostgreSQL: under the lock serve takes at start), then exit.',
    )
    .action(action(async () => (await import('./commands')).migrateCommand(cli)));

  program
    .command('rotate-signing-key')
    .description(
      'Sign with a fresh JWT key (workload issuer for clouds, or the embedded admin IdP); the old one stays published.',
    )
    .addOption(new Option('--issuer <issuer>', 'which issuer').choices(['workload', 'admin']).default('workload'))
    .option('--out <dir>', 'workload issuer: publish the JWKS with the new key to this directory before it signs')
    .option(
      '--to <url>',
      'workload issuer: upload it to s3://bucket/prefix, gs://bucket/prefix or azblob://account/container/prefix before the new key signs',
    )
    .action(
      action(async (opts: { issuer: 'workload' | 'admin'; out?: string; to?: string }) =>
        (await import('./commands')).rotateSigningKeyCommand(cli, opts),
      ),
    );

  program
    .command('publish-issuer')
    .description(
      'Write the workload issuer (.well-known/openid-configuration and jwks.json with every published key) for a static host, so clouds never reach this server.',
    )
    .option('--out <dir>', 'write the files under this directory')
    .option(
      '--to <url>',
      'upload them to s3://bucket/prefix (AWS_ENDPOINT_URL_S3 for S3-compatible stores), gs://bucket/prefix or azblob://account/container/prefix',
    )
    .action(
      action(async (opts: { out?: string; to?: string }) =>
        (await import('./commands')).publishIssuerCommand(cli, opts),
      ),
    );

  program
    .command('generate-key')
    .description('Print a new Fernet key for ALPHASWARM_ADMIN_INTEGRATIONS_KEY.')
    .action(
      action(async () => {
        const { generateKey } = await import('@alphaswarm/db/fernet');
        cli.out(generateKey());
        cli.err(
          'Set it as ALPHASWARM_ADMIN_INTEGRATIONS_KEY and keep a copy somewhere safe: without it the stored secrets cannot be decrypted. To rotate, put the new key first in the comma-separated list and run `alphaswarm-admin rotate-key`.',
        );
      }),
    );

  program
    .command('export')
    .description('Write every link to a JSON store file (secrets stay Fernet-encrypted), atomically, mode 0600.')
    .option('--out <file>', 'target file (default: ALPHASWARM_ADMIN_INTEGRATIONS_PATH)')
    .option('--allow-unreadable', 'export secrets that no configured key decrypts as they are, instead of refusing')
    .action(
      action(async (opts: { out?: string; allowUnreadable?: boolean }) =>
        (await import('./commands')).exportCommand(cli, opts),
      ),
    );

  program
    .command('import')
    .description('Import a JSON store file: validated first, then written in one transaction (all or nothing).')
    .argument('<file>', 'store file to import')
    .option('--dry-run', 'validate and report what would change; write nothing')
    .addOption(
      new Option('--on-conflict <policy>', 'what to do with links that already exist')
        .choices(ON_CONFLICT)
        .default('fail'),
    )
    .action(
      action(async (file: string, opts: { dryRun?: boolean; onConflict: OnConflict }) =>
        (await import('./commands')).importCommand(cli, file, opts),
      ),
    );

  program
    .command('rotate-key')
    .description('Re-encrypt every stored secret under the first key of ALPHASWARM_ADMIN_INTEGRATIONS_KEY.')
    .action(action(async () => (await import('./commands')).rotateKeyCommand(cli)));

  program
    .command('forget-secrets')
    .description('Lost key: discard every stored link secret and mark those links needs_reconnect.')
    .option('--yes', 'confirm; nothing happens without it')
    .action(action(async (opts: { yes?: boolean }) => (await import('./commands')).forgetSecretsCommand(cli, opts)));

  program
    .command('check-production')
    .description('List every reason this configuration is not fit for production; exit 1 if there is any.')
    .action(action(async () => (await import('./commands')).checkProductionCommand(cli)));

  program
    .command('audit-verify')
    .description(
      'Verify the keyed audit chain (the database, or an exported JSONL with --file), optionally against checkpoints kept elsewhere; exit 1 naming the first divergence.',
    )
    .option('--checkpoints <file>', 'signed checkpoints kept outside the database (JWS lines, or an audit stream)')
    .option('--public-key <file>', 'the pinned checkpoint public key: PEM, JWK, or the JWKS of the admin issuer')
    .option('--file <file>', 'verify this exported audit JSONL instead of the database')
    .action(action(async (opts: AuditVerifyOptions) => (await import('./commands')).auditVerifyCommand(cli, opts)));

  program
    .command('audit-export')
    .description('Write audit events in seq order, one per line with its link (verifiable offline).')
    .option('--since <time>', 'events at or after this RFC 3339 time')
    .option('--until <time>', 'events before this RFC 3339 time')
    .addOption(new Option('--format <format>', 'jsonl or csv').choices(['jsonl', 'csv']).makeOptionMandatory())
    .option('--out <file>', 'write to this file (atomically, mode 0600) instead of stdout')
    .action(action(async (opts: AuditExportOptions) => (await import('./commands')).auditExportCommand(cli, opts)));

  program
    .command('copy-db')
    .description(
      'Copy every table of this database (links with their ciphertexts, audit chain, admin users, signing keys, wizard sessions, ...) into an empty PostgreSQL database, migrated first, in one verified transaction.',
    )
    .requiredOption('--to <postgres-url>', 'the PostgreSQL database to fill: postgres://user:password@host:5432/db')
    .action(action(async (opts: { to: string }) => (await import('./copy-db')).copyDbCommand(cli, opts)));

  program
    .command('create-admin')
    .description(
      `Create an embedded-IdP admin: asks for a password (${PASSWORD_RULES}), prints the TOTP secret, otpauth:// URI and a QR code.`,
    )
    .argument('<username>', 'login name (a-z, 0-9, ".", "_", "@", "-")')
    .addOption(
      new Option(
        '--scopes <scopes...>',
        `scopes the admin gets: ${SCOPES.join(', ')} or admin:org:<org_id> (that org only)`,
      ).default(['admin:cluster']),
    )
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(
      action(async (username: string, opts: { scopes: string[]; passwordStdin?: boolean }) =>
        (await import('./admin-users')).createAdminCommand(cli, username, opts),
      ),
    );

  program
    .command('reset-mfa')
    .description(
      'Give an admin a new TOTP secret (lost phone): the old one, their passkeys and recovery codes, and every open session stop working.',
    )
    .argument('<username>')
    .action(action(async (username: string) => (await import('./admin-users')).resetMfaCommand(cli, username)));

  program
    .command('change-password')
    .description(`Set an admin's password (${PASSWORD_RULES}); every open session of theirs stops working.`)
    .argument('<username>')
    .option('--password-stdin', 'read the new password from stdin instead of asking')
    .action(
      action(async (username: string, opts: { passwordStdin?: boolean }) =>
        (await import('./admin-users')).changePasswordCommand(cli, username, opts),
      ),
    );

  program
    .command('disable-admin')
    .description(
      'Stop an admin from signing in, stepping up or refreshing (access tokens already issued expire within 10 minutes).',
    )
    .argument('<username>')
    .action(
      action(async (username: string) => (await import('./admin-users')).setDisabledCommand(cli, username, true)),
    );

  program
    .command('enable-admin')
    .description('Re-enable a disabled admin; also lifts a lockout after failed attempts.')
    .argument('<username>')
    .action(
      action(async (username: string) => (await import('./admin-users')).setDisabledCommand(cli, username, false)),
    );

  program
    .command('list-admins')
    .description('List embedded-IdP admins with their scopes and state.')
    .action(action(async () => (await import('./admin-users')).listAdminsCommand(cli)));

  return program;
}
