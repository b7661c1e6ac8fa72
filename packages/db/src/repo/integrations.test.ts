import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../../test/stores';
import type { Store } from '../database';
import { listOrgs, upsertLink } from './integrations';

const NOW = '2026-05-27T20:00:00Z';

let s: Store;
beforeEach(async () => {
  s = await testStore();
});
afterEach(() => s.close());

describe('listOrgs', () => {
  it('searches case-insensitively, taking % and _ literally, in byte order on both dialects', async () => {
    for (const org of ['s_1', 'sx1', 'S_2', 'a.b', 'ab', 'Z-1']) {
      await upsertLink(
        s.db,
        {
          orgId: org,
          kind: 'cloud_aws',
          namespace: '1',
          status: 'healthy',
          error: null,
          metadata: {},
          secret: null,
          expiresAt: null,
        },
        NOW,
      );
    }
    const ids = async (search?: string) =>
      (await listOrgs(s.db, { ...(search ? { search } : {}), limit: 10 })).map((o) => o.org_id);
    expect(await ids('s_')).toEqual(['S_2', 's_1']);
    expect(await ids('%')).toEqual([]);
    expect(await ids()).toEqual(['S_2', 'Z-1', 'a.b', 'ab', 's_1', 'sx1']);
    expect(await listOrgs(s.db, { afterOrg: 'ab', limit: 10 })).toMatchObject([{ org_id: 's_1' }, { org_id: 'sx1' }]);
  });
});
