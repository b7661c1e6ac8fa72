// A throwaway PostgreSQL cluster for tests: initdb into a temp directory (as the `postgres` user
// when run as root: initdb refuses root), durability off (fsync, synchronous_commit,
// full_page_writes: nothing here must survive a crash), a free port on loopback, trust auth.
// One cluster per test run holds a migrated template; each test database is a cheap copy of it.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresStore } from '../postgres';
import { freePort } from './ports';

export interface PostgresCluster {
  host: string;
  port: number;
  /** The migrated database every test database is copied from. */
  template: string;
  stop(): Promise<void>;
}

/** Where the server binaries are (Debian does not put them on PATH), or null. */
export function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found ? join(found, '..') : null;
}

// Memory-backed when there is one: creating and dropping databases is then a matter of milliseconds.
const PARENT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const PREFIX = 'alphaswarm-pg-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stop and remove clusters whose test run died without its teardown (killed, crashed). */
function removeAbandoned(run: (program: string, args: string[]) => unknown): void {
  for (const name of readdirSync(PARENT).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(PARENT, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || alive(owner)) continue;
    try {
      run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Not running any more.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ClusterOptions {
  /**
   * Keep PostgreSQL's durability (fsync, synchronous commit, full-page writes) and put the data in
   * the temporary directory rather than in memory: for benchmarks that compare it with a SQLite file.
   */
  durable?: boolean;
}

/** Start a cluster with a migrated template database. Throws, saying why, when it cannot. */
export async function startPostgresCluster(opts: ClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinaries();
  if (!bin) {
    throw new Error('PostgreSQL is not installed (no initdb): run scripts/setup.sh, or apt-get install postgresql');
  }
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  const run = (program: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, program),
      asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args,
      { stdio: 'pipe' },
    );
  removeAbandoned(run);
  const dir = mkdtempSync(join(opts.durable ? tmpdir() : PARENT, PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const data = join(dir, 'data');
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
    const options = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-k ${dir}`,
      '-c max_connections=300',
      ...(opts.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ].join(' ');
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  } catch (error) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`cannot start a PostgreSQL cluster: ${stderr || (error as Error).message}${log ? `\n${log}` : ''}`);
  }
  const cluster: PostgresCluster = {
    host: '127.0.0.1',
    port,
    template: 'alphaswarm_template',
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await admin(cluster, (c) => c.query(`CREATE DATABASE ${cluster.template}`));
    const store = await openPostgresStore(databaseUrl(cluster, cluster.template), { pool: 1 });
    await store.close();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

export function databaseUrl(cluster: Pick<PostgresCluster, 'host' | 'port'>, database: string): string {
  return `postgres://postgres@${cluster.host}:${cluster.port}/${database}`;
}

async function admin<T>(cluster: Pick<PostgresCluster, 'host' | 'port'>, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(cluster, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database copied from the cluster's migrated template (or an empty one, never migrated);
 * its URL and how to drop it.
 */
export async function createTestDatabase(
  cluster: Pick<PostgresCluster, 'host' | 'port' | 'template'>,
  opts: { empty?: boolean } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  const template = opts.empty ? 'template0' : cluster.template;
  await admin(cluster, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    url: databaseUrl(cluster, name),
    name,
    drop: () => admin(cluster, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
