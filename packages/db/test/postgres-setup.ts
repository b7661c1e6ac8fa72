import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from '../src/testing/postgres';

/** One cluster for the whole run; every test database is a copy of its migrated template. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgresCluster();
  project.provide('postgres', { host: cluster.host, port: cluster.port, template: cluster.template });
  return () => cluster.stop();
}
