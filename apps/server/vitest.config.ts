import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The suite runs on both dialects: one project each, sharing the files, the dialect given to the
// harness (test/support/database.ts). The PostgreSQL project starts one throwaway cluster for the run.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // The files wait on loopback servers, SQLite and subprocesses more than they compute: two at a
    // time even on two cores; and one module graph per worker, since importing it again for every
    // file cost more than most files' tests.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
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
          // The CLI and fault suites get their PostgreSQL runs separately (cli-runtime, copy-db and
          // replicas: the CLI's commands, and kill -9 of a replica, on PostgreSQL; the full-disk and
          // read-only cases are what a file system does to a SQLite file). The packed client and the
          // OpenAPI document describe the wire, the same on either dialect: run once, on SQLite.
          exclude: ['test/cli.test.ts', 'test/fault/**', 'test/admin-client.test.ts', 'test/openapi.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
