import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialect, testStore } from '../../test/stores';
import type { Store } from '../database';
import { insertProbes, type ProbeRow } from '../testing/history';
import { healthByDay } from './awareness';

let s: Store;
beforeEach(async () => {
  s = await testStore();
});
afterEach(() => s.close());

const probes = (rows: ProbeRow[]) => insertProbes(s.db, rows);

describe('healthByDay', () => {
  it('counts an org’s probes per link, UTC day and result from `from` on, nothing before it or of another org', async () => {
    await probes([
      ['acme', 'huggingface', '2026-11-27T23:59:59Z', 'unhealthy'], // the day before `from`
      ['acme', 'huggingface', '2026-11-28T00:00:00Z', 'healthy'],
      ['acme', 'huggingface', '2026-11-28T12:00:00Z', 'healthy'],
      ['acme', 'huggingface', '2026-11-28T23:59:59Z', 'degraded'],
      ['acme', 'huggingface', '2026-11-29T00:00:00Z', 'unhealthy'],
      ['acme', 'docker_hub', '2026-11-29T08:00:00Z', 'needs_reconnect'],
      ['globex', 'huggingface', '2026-11-29T08:00:00Z', 'unhealthy'],
    ]);

    const from = '2026-11-28T00:00:00Z';
    expect(await healthByDay(s.db, { orgId: 'acme', from })).toEqual([
      { kind: 'docker_hub', day: '2026-11-29', result: 'needs_reconnect', n: 1 },
      { kind: 'huggingface', day: '2026-11-28', result: 'degraded', n: 1 },
      { kind: 'huggingface', day: '2026-11-28', result: 'healthy', n: 2 },
      { kind: 'huggingface', day: '2026-11-29', result: 'unhealthy', n: 1 },
    ]);
    expect(await healthByDay(s.db, { orgId: 'acme', kind: 'docker_hub', from })).toEqual([
      { kind: 'docker_hub', day: '2026-11-29', result: 'needs_reconnect', n: 1 },
    ]);
    expect(await healthByDay(s.db, { orgId: 'nobody', from })).toEqual([]);
  });

  it.runIf(dialect === 'sqlite')('is read from the health_history_org_day index alone, never the table', async () => {
    const plan = await s.exec(
      sql`EXPLAIN QUERY PLAN SELECT kind, substr(at, 1, 10) AS day, result, count(*) FROM health_history
          WHERE org_id = ${'acme'} AND at >= ${'2026-09-01T00:00:00Z'} GROUP BY kind, day, result`,
    );
    expect(plan.map((row) => row.detail).join('\n')).toMatch(
      /USING COVERING INDEX health_history_org_day \(org_id=\? AND at>\?\)/,
    );
  });
});
