import { defineConfig } from 'vitest/config';

// The suite runs on both dialects: one project each, sharing the files, the dialect given to the
// harness (test/support/database.ts). The PostgreSQL project starts one throwaway cluster for the run.
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          provide: { dialect: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          // The CLI and fault suites get their PostgreSQL runs separately. The packed client and the
          // OpenAPI document describe the wire, the same on either dialect: run once, on SQLite.
          exclude: ['test/cli.test.ts', 'test/fault/**', 'test/admin-client.test.ts', 'test/openapi.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
