/**
 * The security-critical modules under mutation testing (issue 17): where each lives, and which
 * files are mutated. Each runs in its own package, against that package's vitest suite (only the
 * test files related to the mutated files, vitest's `related`).
 */
export const MODULES = {
  // Stable first: these are not being rewritten for two dialects.
  fernet: { dir: 'packages/db', mutate: ['src/crypto/fernet.ts'] },
  'console-guards': {
    dir: 'apps/web',
    mutate: [
      'src/hooks.server.ts',
      'src/lib/server/session.ts',
      'src/lib/server/next.ts',
      'src/routes/(app)/step-up/+page.server.ts',
    ],
  },
  redaction: { dir: 'packages/providers', mutate: ['src/shared/secrets.ts'] },
  tokens: { dir: 'packages/api', mutate: ['src/auth/bearer.ts', 'src/auth/requirements.ts'] },
  procedures: { dir: 'packages/api', mutate: ['src/trpc.ts', 'src/audit/writer.ts'] },
  wizard: { dir: 'packages/api', mutate: ['src/services/wizard.ts'] },
  rotation: { dir: 'packages/db', mutate: ['src/rotation.ts'] },
  // Rewritten for SQLite and PostgreSQL on p-db: run after that lands.
  audit: { dir: 'packages/db', mutate: ['src/repo/audit.ts'] },
  'admin-users': { dir: 'packages/db', mutate: ['src/repo/admin-users.ts'] },
  'store-file': { dir: 'packages/db', mutate: ['src/store-file/*.ts', '!src/store-file/*.test.ts'] },
};
