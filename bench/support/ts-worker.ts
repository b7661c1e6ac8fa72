import { Worker } from 'node:worker_threads';

/** A worker thread running a TypeScript module, compiled the way this process does: through tsx, registered first. */
export function startTsWorker(entry: URL, workerData?: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`,
    { eval: true, workerData },
  );
}
