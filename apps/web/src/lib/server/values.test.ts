import { describe, expect, it } from 'vitest';
import type { Api } from './api';
import { applyOutcome, attribute, type PendingAction, replay, safeValues } from './pending';
import type { Session } from './session';

/*
 * What an action's outcome and failure put on the next page: the form values echoed back (never a
 * secret), the field a failure is shown next to, and the flash and download of a success. Pure:
 * the API is an object answering the one procedure called.
 */

const after = { label: 'Do it', origin: '/store', location: '/store' };

describe('the form values echoed back after a failure', () => {
  it('are the non-secret inputs: flags as checkbox values, lists joined; never a file, nor params that are not an object', () => {
    const imported = { path: 'store.import', input: { content: '{"CANARY":1}', dry_run: true }, after };
    expect(safeValues(imported as PendingAction)).toEqual({ dry_run: 'on' });
    const notDry = { path: 'store.import', input: { content: '{}', dry_run: false, tags: ['a', 'b'] }, after };
    expect(safeValues(notDry as PendingAction)).toEqual({ dry_run: '', tags: 'a, b' });
    const odd = { path: 'integrations.rotate', input: { org_id: 'a', params: 'abc', n: 1 }, after };
    expect(safeValues(odd as PendingAction)).toEqual({ org_id: 'a' });
  });

  it('an upstream verdict without a field named by the form stays unattributed', () => {
    const failure = { code: 'credential_rejected', message: 'no', field: null, upstream: null, status: 422 };
    expect(attribute({ path: null, after }, failure)).toBe(failure);
  });
});

describe('the outcome of a replayed action', () => {
  it('keeps the action’s notice beside what its procedure adds, and its download', async () => {
    const api = {
      integrations: {
        disconnect: {
          mutate: async () => ({
            kind: 'docker_hub',
            credential_key: 'k',
            revocation_guidance: 'g',
            audit_run_id: 'run_d',
          }),
        },
      },
    } as unknown as Api;
    const outcome = await replay(api, {
      path: 'integrations.disconnect',
      input: { org_id: 'a', kind: 'docker_hub' },
      after: { ...after, location: '/orgs/a', notice: 'Disconnected.' },
    });
    expect(outcome.flash).toEqual({
      notice: { text: 'Disconnected.', run_id: 'run_d' },
      disconnected: { kind: 'docker_hub', credential_key: 'k', revocation_guidance: 'g', audit_run_id: 'run_d' },
    });
  });

  it('a procedure that answers nothing still replays', async () => {
    const api = { auth: { passkeyRemove: { mutate: async () => undefined } } } as unknown as Api;
    const outcome = await replay(api, {
      path: 'auth.passkeyRemove',
      input: { id: 'pk' },
      after: { ...after, notice: 'Removed.' },
    });
    expect(outcome).toEqual({ location: '/store', flash: { notice: { text: 'Removed.' } } });
  });

  it('a download is kept for the next page; an outcome without one leaves the earlier one', () => {
    const session = { flash: null, download: null } as unknown as Session;
    applyOutcome(session, { location: '/store', download: { filename: 'e.json', content: '{}' } });
    expect(session.download).toEqual({ filename: 'e.json', content: '{}' });
    applyOutcome(session, { location: '/store' });
    expect(session.download).toEqual({ filename: 'e.json', content: '{}' });
    expect(session.flash).toBeNull();
  });
});
