import { defineConfig } from 'vitest/config';

// Tests that touch a database run on both dialects: one project each, sharing the files. The
// PostgreSQL project starts one throwaway cluster for the run (test/postgres-setup.ts).
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['src/**/*.test.ts'], provide: { dialect: 'sqlite' } } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['src/router.test.ts'],
          globalSetup: ['test/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
