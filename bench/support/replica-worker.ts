// Worker thread for bench/health-sweep.ts: one replica sweeping through the job queue (see replica.ts).
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { Keyring, openDatabase } from '@alphaswarm/db';
import { createLogger, createRuntime, parseEnv, startSweeper, upstreamsFromEnv } from '@alphaswarm/server';
import type { ReplicaCall, ReplicaConfig, ReplicaEvent } from './replica';

const port = parentPort;
if (!port) throw new Error('replica-worker.ts runs as a worker thread');
const send = (e: ReplicaEvent) => port.postMessage(e);
const config = workerData as ReplicaConfig;

/**
 * CPU of this thread alone, in ms (user + system; Linux counts it in USER_HZ ticks, 100 a second),
 * or null off Linux. process.cpuUsage() would count every thread of the process, the other replica's too.
 */
function threadCpuMs(): number | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'utf8');
  } catch {
    return null;
  }
  // After the command name in parentheses: state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const env = parseEnv({
  ALPHASWARM_ENV: 'test',
  ALPHASWARM_ADMIN_DATABASE_URL: config.databaseUrl,
  ALPHASWARM_ADMIN_INTEGRATIONS_KEY: config.key,
  ALPHASWARM_ADMIN_HEALTH_INTERVAL: String(config.intervalS),
  ALPHASWARM_ADMIN_HEALTH_CONCURRENCY: String(config.concurrency),
  HOME: tmpdir(),
});
const sink = new Writable({
  write(chunk, _enc, cb) {
    const line = String(chunk);
    const entry = JSON.parse(line) as { level: number; msg: string; sweep?: Record<string, number> };
    if (entry.msg === 'health sweep finished') {
      const { checked = 0, failed = 0, batches = 0 } = entry.sweep ?? {};
      send({ op: 'finished', at: Date.now(), sweep: { checked, failed, batches } });
    } else if (entry.level >= 40) send({ op: 'log', line: line.trimEnd() });
    cb();
  },
});
let skew = config.skew;
const store = await openDatabase(env.database);
const rt = createRuntime({
  env,
  store,
  keyring: Keyring.fromEnv(config.key),
  ephemeralKey: false,
  logger: createLogger('info', sink),
  upstreams: { ...upstreamsFromEnv(env), huggingfaceEndpoint: config.hfUrl },
  now: () => new Date(Date.now() + skew),
});
const sweeper = await startSweeper(rt, config.batchLinks ? { jobs: { batchLinks: config.batchLinks } } : {});
let cpu0: number | null = null;

async function stop(): Promise<void> {
  const cpu = threadCpuMs();
  const metric = await rt.metrics.registry.getSingleMetric('alphaswarm_probes_total')?.get();
  const probes = metric?.values.reduce((n, v) => n + v.value, 0) ?? 0;
  await sweeper.stop();
  await rt.http.close();
  await store.close();
  send({ op: 'stopped', cpuMs: cpu === null || cpu0 === null ? null : cpu - cpu0, probes });
}

port.on('message', (m: ReplicaCall) => {
  if (m.op === 'go') {
    skew = m.skew;
    cpu0 = threadCpuMs();
  } else void stop();
});
send({ op: 'ready' });
