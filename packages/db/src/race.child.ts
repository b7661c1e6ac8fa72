// The other process of race.test.ts: says "ready" once loaded; for each race it is sent the
// database file ({file, race, rounds}), opens it and says "open", then is sent the start instant
// ({startAt}), races, and prints what it won as JSON.
import { createInterface } from 'node:readline';
import { type Race, takeAll } from './race.takes';
import { openStore } from './sqlite';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
process.stdout.write('ready\n');
for (;;) {
  const { file, race, rounds } = await next<{ file: string; race: Race; rounds: number }>();
  const store = openStore(file);
  process.stdout.write('open\n');
  const { startAt } = await next<{ startAt: number }>();
  const won = await takeAll(store.db, race, rounds, startAt);
  store.close();
  process.stdout.write(`${JSON.stringify(won)}\n`);
}
