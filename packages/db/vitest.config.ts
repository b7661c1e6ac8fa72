import { defineConfig } from 'vitest/config';

// Every test that touches a database runs on both dialects: one project each, sharing the files.
// The PostgreSQL project starts one throwaway cluster for the run (test/postgres-setup.ts).
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
          exclude: ['test/postgres.test.ts'],
          provide: { dialect: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // No database in these: once is enough.
          exclude: [
            'src/crypto/**',
            'src/schema/**',
            'src/store-file/validate.test.ts',
            // What a file system does to a SQLite file.
            'src/durability.test.ts',
            'src/read-only.test.ts',
            'test/sqlite.test.ts',
            // Written against one SQLite file (raw-driver tampering, two processes on the file);
            // their PostgreSQL twins are still to come (docs/mutation.md).
            'src/audit.test.ts',
            'src/race.test.ts',
          ],
          globalSetup: ['test/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
