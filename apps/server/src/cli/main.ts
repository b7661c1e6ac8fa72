/**
 * alphaswarm-admin: the operator CLI. Every command prints its result on stdout, and on failure
 * exactly one `error: <reason>` line on stderr with a non-zero exit code.
 */

import { OnConflict } from '@alphaswarm/contracts';
import { Command, Option } from 'commander';
import { registerAdminUserCommands } from './admin-users';
import { registerAuditCommands } from './audit';
import {
  auditExportCommand,
  auditVerifyCommand,
  checkProductionCommand,
  exportCommand,
  forgetSecretsCommand,
  generateKeyCommand,
  importCommand,
  migrateCommand,
  publishIssuerCommand,
  rotateKeyCommand,
  rotateSigningKeyCommand,
  serveCommand,
} from './commands';
import { describeError, exitCodeOf, io } from './context';
import { registerCopyDbCommand } from './copy-db';

function action<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      io.err(`error: ${describeError(error)}`);
      process.exitCode = exitCodeOf(error);
    }
  };
}

export function buildProgram(): Command {
  const program = new Command('alphaswarm-admin').description(
    'Operate the account-integrations admin service. Configuration comes from ALPHASWARM_* environment variables.',
  );

  program
    .command('serve')
    .description('Start the admin server (opens the database, imports the old JSON store on first start).')
    .action(action(() => serveCommand()));

  program
    .command('migrate')
    .description(
      'Bring the database schema to this build (PostgreSQL: under the lock serve takes at start), then exit.',
    )
    .action(action(() => migrateCommand(io)));

  program
    .command('rotate-signing-key')
    .description(
      'Sign with a fresh JWT key (workload issuer for clouds, or the embedded admin IdP); the old one stays published.',
    )
    .addOption(new Option('--issuer <issuer>', 'which issuer').choices(['workload', 'admin']).default('workload'))
    .option('--out <dir>', 'workload issuer: publish the JWKS with the new key to this directory before it signs')
    .option('--to <url>', 'workload issuer: upload it to s3://bucket/prefix before the new key signs')
    .action(
      action((opts: { issuer: 'workload' | 'admin'; out?: string; to?: string }) => rotateSigningKeyCommand(io, opts)),
    );

  program
    .command('publish-issuer')
    .description(
      'Write the workload issuer (.well-known/openid-configuration and jwks.json with every published key) for a static host, so clouds never reach this server.',
    )
    .option('--out <dir>', 'write the files under this directory')
    .option('--to <url>', 'upload them to s3://bucket/prefix (AWS_ENDPOINT_URL_S3 for S3-compatible stores)')
    .action(action((opts: { out?: string; to?: string }) => publishIssuerCommand(io, opts)));

  program
    .command('generate-key')
    .description('Print a new Fernet key for ALPHASWARM_ADMIN_INTEGRATIONS_KEY.')
    .action(action(() => generateKeyCommand(io)));

  program
    .command('export')
    .description('Write every link to a JSON store file (secrets stay Fernet-encrypted), atomically, mode 0600.')
    .option('--out <file>', 'target file (default: ALPHASWARM_ADMIN_INTEGRATIONS_PATH)')
    .option('--allow-unreadable', 'export secrets that no configured key decrypts as they are, instead of refusing')
    .action(action((opts: { out?: string; allowUnreadable?: boolean }) => exportCommand(io, opts)));

  program
    .command('import')
    .description('Import a JSON store file: validated first, then written in one transaction (all or nothing).')
    .argument('<file>', 'store file to import')
    .option('--dry-run', 'validate and report what would change; write nothing')
    .addOption(
      new Option('--on-conflict <policy>', 'what to do with links that already exist')
        .choices(OnConflict.options)
        .default('fail'),
    )
    .action(
      action((file: string, opts: { dryRun?: boolean; onConflict: OnConflict }) => importCommand(io, file, opts)),
    );

  program
    .command('rotate-key')
    .description('Re-encrypt every stored secret under the first key of ALPHASWARM_ADMIN_INTEGRATIONS_KEY.')
    .action(action(() => rotateKeyCommand(io)));

  program
    .command('forget-secrets')
    .description('Lost key: discard every stored link secret and mark those links needs_reconnect.')
    .option('--yes', 'confirm; nothing happens without it')
    .action(action((opts: { yes?: boolean }) => forgetSecretsCommand(io, opts)));

  program
    .command('check-production')
    .description('List every reason this configuration is not fit for production; exit 1 if there is any.')
    .action(action(() => checkProductionCommand(io)));

  registerAuditCommands(
    program,
    { verify: (opts) => auditVerifyCommand(io, opts), export: (opts) => auditExportCommand(io, opts) },
    action,
  );

  registerCopyDbCommand(program, action, io);
  registerAdminUserCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
