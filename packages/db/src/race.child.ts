// The other process of race.test.ts: says "ready" once loaded; for each race it is sent the
// database ({config, race, rounds}), opens it and says "open", then is sent the start instant
// ({startAt}), races, and prints what it won as JSON.
import { createInterface } from 'node:readline';
import { type Race, takeAll } from './race.takes';
import { openDatabase, type StoreConfig } from './store';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
process.stdout.write('ready\n');
for (;;) {
  const { config, race, rounds } = await next<{ config: StoreConfig; race: Race; rounds: number }>();
  const store = await openDatabase(config);
  process.stdout.write('open\n');
  const { startAt } = await next<{ startAt: number }>();
  const won = await takeAll(store.db, race, rounds, startAt);
  await store.close();
  process.stdout.write(`${JSON.stringify(won)}\n`);
}
