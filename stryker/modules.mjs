/**
 * The security-critical modules under mutation testing (issue 17): where each lives, and which
 * files are mutated. Each runs in its own package, against that package's vitest suite: the test
 * files related to the mutated files (vitest's `related`), or only `tests` when given (the module's
 * own specification: a module that every test of its package imports, such as Fernet, would
 * otherwise pay for the whole suite per mutant). `project` picks one vitest project of a package
 * that has several (the db modules run on SQLite: a PostgreSQL cluster per run is too slow here).
 */
export const MODULES = {
  // Stable first: these are not being rewritten for two dialects.
  fernet: {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: ['src/crypto/fernet.ts'],
    tests: ['src/crypto/fernet.test.ts'],
  },
  // The console's front door (CSRF, sign-in redirect, security headers), its sessions, `next`, and
  // the pending action ({path, input, after}: its shape check, its claim and its one replay) with
  // the step-up page that replays it, against the specs that state those rules (vitest's `related`
  // ran a dozen console test files per mutant). Line ranges keep the mutants on the guards: the
  // rest of pending.ts is the follow-ups' flash texts (presentation), and of session.ts the store's
  // opening, the three-way merge and the refresh lease (plumbing with tests of their own).
  'console-guards': {
    dir: 'apps/web',
    mutate: [
      'src/hooks.server.ts',
      'src/lib/server/next.ts',
      'src/lib/server/action.ts',
      // sectionOf, applyOutcome; runOf, replay; attribute, safeValues; replayPending.
      'src/lib/server/pending.ts:26-45',
      'src/lib/server/pending.ts:128-152',
      'src/lib/server/pending.ts:192-217',
      'src/lib/server/pending.ts:234-261',
      // The cookie and the limits; loadSession; start, forget, end; saveSession; flash, takePending, setPending.
      'src/lib/server/session.ts:103-123',
      'src/lib/server/session.ts:199-231',
      'src/lib/server/session.ts:243-272',
      'src/lib/server/session.ts:316-342',
      'src/lib/server/session.ts:401-446',
      'src/routes/(app)/step-up/+page.server.ts',
    ],
    tests: [
      'src/hooks.server.test.ts',
      'src/hooks.session.test.ts',
      'src/lib/server/next.test.ts',
      'src/lib/server/action.test.ts',
      'src/lib/server/session.test.ts',
      'src/lib/server/session-end.test.ts',
      'src/lib/server/pending.test.ts',
      'src/lib/server/values.test.ts',
      'src/routes/(app)/step-up/page.server.test.ts',
      'src/routes/(app)/step-up/refusals.test.ts',
    ],
  },
  redaction: {
    dir: 'packages/providers',
    mutate: ['src/shared/secrets.ts'],
    // Every provider test passes through guardSecrets, so each would run for every mutant; the
    // rule is specified beside it (the providers' own redaction cases stay in their suites).
    tests: ['src/shared/secrets.test.ts'],
  },
  // router.test.ts imports both (through root.ts) and would run on both projects, a PostgreSQL
  // cluster and two loopback fakes per mutant; the auth rules are specified in src/auth/.
  tokens: {
    dir: 'packages/api',
    project: 'sqlite',
    mutate: ['src/auth/bearer.ts', 'src/auth/requirements.ts'],
    tests: ['src/auth/*.test.ts'],
  },
  // The base procedures (auth, audit-first, hand-off and error middleware) through createCaller on
  // a router of their own (src/trpc.test.ts: no upstream fakes, no app router to import); the audit
  // writer has its own spec, so its mutants do not each pay for the procedures' database either.
  procedures: { dir: 'packages/api', project: 'sqlite', mutate: ['src/trpc.ts'], tests: ['src/trpc.test.ts'] },
  'audit-writer': {
    dir: 'packages/api',
    project: 'sqlite',
    mutate: ['src/audit/writer.ts'],
    tests: ['src/audit/writer.test.ts'],
  },
  // The wizard's rules, called directly on a SQLite file against the loopback Cloudflare fake alone
  // (apps/server's cloud tests walk every kind end to end; related found only router/trpc tests).
  wizard: {
    dir: 'packages/api',
    project: 'sqlite',
    mutate: ['src/services/wizard.ts'],
    tests: ['src/services/wizard.test.ts'],
  },
  rotation: { dir: 'packages/db', project: 'sqlite', mutate: ['src/rotation.ts'], tests: ['src/rotation.test.ts'] },
  // The db modules run their own specs: the repositories are imported by most of the db suite,
  // whose dry run (the whole sqlite project) would then cover every mutant many times over.
  audit: {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: ['src/repo/audit.ts'],
    tests: ['src/audit.test.ts', 'src/audit-recovery.test.ts', 'src/repo/audit-stream.test.ts'],
  },
  // The link and verification rules the repository calls (ChainVerifier, linkRow, plainLink),
  // against their own spec: src/audit.test.ts (a SQLite file per test, tampered through the raw
  // driver) drives the same rules through verifyAudit, at seconds per mutant instead of milliseconds.
  'audit-chain': {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: ['src/audit/chain.ts'],
    tests: ['src/audit/chain.test.ts'],
  },
  // The attempt reservation and lockout live in src/repo/sign-in.ts (module sign-in).
  'admin-users': {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: ['src/repo/admin-users.ts'],
    tests: ['src/repo/admin-users.test.ts'],
  },
  'sign-in': { dir: 'packages/db', project: 'sqlite', mutate: ['src/repo/sign-in.ts'], tests: ['src/sign-in.test.ts'] },
  // The store file in two: validation is pure and its spec fast, while every mutant of the writing
  // side needs a database, so one module would pay the second for the first. The writing side runs
  // its own spec (small data, one SQLite file per block, no Python); store-file.test.ts (a store
  // larger than a page, Python, a database per test) stays the end-to-end check.
  'store-file-validate': {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: ['src/store-file/validate.ts', 'src/store-file/json-scan.ts'],
    tests: ['src/store-file/validate.test.ts', 'src/store-file/json-scan.test.ts'],
  },
  'store-file-io': {
    dir: 'packages/db',
    project: 'sqlite',
    mutate: [
      'src/store-file/export.ts',
      'src/store-file/import.ts',
      'src/store-file/atomic-write.ts',
      'src/store-file/common.ts',
    ],
    tests: ['src/store-file/io.test.ts', 'src/store-file/io-fresh.test.ts', 'src/store-file/atomic-write.test.ts'],
  },
};
