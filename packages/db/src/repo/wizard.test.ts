import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../../test/stores';
import type { Store } from '../database';
import { createWizardSession, getWizardSession, updateWizardState } from './wizard';

const NOW = '2026-05-27T20:00:00Z';

let s: Store;
beforeEach(async () => {
  s = await testStore();
});
afterEach(() => s.close());

describe('wizard sessions', () => {
  it('two writes from the same read within one second: the second is refused', async () => {
    const row = await createWizardSession(
      s.db,
      { orgId: 'org-a', kind: 'cloud_aws', createdBy: 'alice', expiresAt: '2026-05-28T20:00:00Z' },
      NOW,
    );
    const first = await updateWizardState(s.db, row, { steps: { a: 1 } }, NOW);
    const second = await updateWizardState(s.db, row, { steps: { b: 1 } }, NOW);
    expect(first?.version).toBe(1);
    expect(second).toBeUndefined();
    expect((await getWizardSession(s.db, row.id))?.state).toEqual({ steps: { a: 1 } });
    expect(await updateWizardState(s.db, first!, { steps: { a: 1, b: 1 } }, NOW)).toMatchObject({ version: 2 });
  });
});
