import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../../test/stores';
import type { Store } from '../database';
import { linkWrite } from '../testing/links';
import { deleteLink, getLink, listOrgs, recordVerdicts, upsertLink, type VerdictWrite } from './integrations';

const NOW = '2026-05-27T20:00:00Z';

let s: Store;
beforeEach(async () => {
  s = await testStore();
});
afterEach(() => s.close());

describe('listOrgs', () => {
  it('searches case-insensitively, taking % and _ literally, in byte order on both dialects', async () => {
    for (const org of ['s_1', 'sx1', 'S_2', 'a.b', 'ab', 'Z-1']) {
      await upsertLink(s.db, linkWrite({ orgId: org, kind: 'cloud_aws', namespace: '1' }), NOW);
    }
    const ids = async (search?: string) =>
      (await listOrgs(s.db, { ...(search ? { search } : {}), limit: 10 })).map((o) => o.org_id);
    expect(await ids('s_')).toEqual(['S_2', 's_1']);
    expect(await ids('%')).toEqual([]);
    expect(await ids()).toEqual(['S_2', 'Z-1', 'a.b', 'ab', 's_1', 'sx1']);
    expect(await listOrgs(s.db, { afterOrg: 'ab', limit: 10 })).toMatchObject([{ org_id: 's_1' }, { org_id: 'sx1' }]);
  });
});

describe('recordVerdicts', () => {
  const link = (orgId: string) => upsertLink(s.db, linkWrite({ orgId, kind: 'huggingface', namespace: 'n' }), NOW);
  const verdict = (orgId: string, status: 'healthy' | 'unhealthy', source = 'sweep'): VerdictWrite => ({
    credentialKey: `huggingface:org:${orgId}`,
    result: {
      status,
      error: status === 'healthy' ? null : { code: 'credential_rejected', message: 'rejected' },
      metadata: { probed: true },
      expiresAt: null,
    },
    now: '2026-05-27T21:00:00Z',
    history: { source, latencyMs: 51.6 },
  });
  const history = () =>
    s.exec(sql`SELECT org_id, source, result, latency_ms, error_code FROM health_history ORDER BY org_id`);

  it('writes each verdict with its history row; a link deleted since its probe gets neither', async () => {
    for (const org of ['a', 'b', 'c']) await link(org);
    await deleteLink(s.db, 'c', 'huggingface');
    const rows = await recordVerdicts(s.db, [
      verdict('a', 'healthy'),
      verdict('b', 'unhealthy'),
      verdict('c', 'healthy'),
    ]);
    expect(rows.map((r) => r?.status)).toEqual(['healthy', 'unhealthy', undefined]);
    expect(await history()).toEqual([
      { org_id: 'a', source: 'sweep', result: 'healthy', latency_ms: 52, error_code: null },
      { org_id: 'b', source: 'sweep', result: 'unhealthy', latency_ms: 52, error_code: 'credential_rejected' },
    ]);
    expect((await getLink(s.db, 'b', 'huggingface'))?.lastHealthAt).toBe('2026-05-27T21:00:00Z');
  });

  it('keeps text exactly (quotes, backslashes, braces, commas, NULL) and, for a link twice in one batch, the later verdict', async () => {
    for (const org of ['a', 'b']) await link(org);
    const awkward = 'say "no", {\\} NULL, \'x\'';
    const odd = verdict('a', 'unhealthy');
    odd.result = {
      ...odd.result,
      error: { code: 'credential_rejected', message: awkward },
      metadata: { note: awkward },
    };
    const rows = await recordVerdicts(s.db, [odd, verdict('b', 'unhealthy')]);
    expect(rows[0]?.error?.message).toBe(awkward);
    const a = await getLink(s.db, 'a', 'huggingface');
    expect([a?.error?.message, a?.metadata.note]).toEqual([awkward, awkward]);
    await recordVerdicts(s.db, [verdict('b', 'healthy'), verdict('b', 'unhealthy')]);
    expect((await getLink(s.db, 'b', 'huggingface'))?.status).toBe('unhealthy');
    expect(
      (await history())
        .filter((r) => r.org_id === 'b')
        .map((r) => r.result)
        .sort(),
    ).toEqual(['healthy', 'unhealthy', 'unhealthy']);
  });

  it('all or none: a verdict that cannot be written leaves every link of its batch as it was', async () => {
    for (const org of ['a', 'b']) await link(org);
    // A history row without its source breaks the batch after the first link's update.
    const broken = verdict('b', 'unhealthy', null as unknown as string);
    await expect(recordVerdicts(s.db, [verdict('a', 'unhealthy'), broken])).rejects.toThrow();
    expect((await getLink(s.db, 'a', 'huggingface'))?.status).toBe('healthy');
    expect((await getLink(s.db, 'b', 'huggingface'))?.status).toBe('healthy');
    expect(await history()).toEqual([]);
  });
});
