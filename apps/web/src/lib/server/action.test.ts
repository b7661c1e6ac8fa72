import { describe, expect, it } from 'vitest';
import { call, isPendingAction } from './action';
import type { Api } from './api';

/*
 * What a sealed session may hold as a pending action: a value read back from the database is
 * replayed only when it has the shape this console writes ({path, input, after}); anything else
 * (an older console's shape, a damaged value) counts as no action.
 */

const after = { label: 'Rotate', origin: '/orgs/a', location: '/orgs/a#docker_hub' };

describe('isPendingAction', () => {
  it('accepts a procedure path of the router with what to do after, or no path (step-up only)', () => {
    expect(isPendingAction({ path: 'integrations.rotate', input: {}, after })).toBe(true);
    expect(isPendingAction({ path: 'integrations.connect.dockerHub', input: {}, after })).toBe(true);
    expect(isPendingAction({ path: null, after: { ...after, notice: 'Verified.' } })).toBe(true);
  });

  it.each([
    ['nothing', null],
    ['a string', 'integrations.rotate'],
    ['an older console’s shape', { type: 'disconnect', org_id: 'a', kind: 'docker_hub' }],
    ['a path that is not a procedure path (one segment)', { path: 'rotate', after }],
    ['a path with something before it', { path: '../integrations.rotate', after }],
    ['a path with something after it', { path: 'integrations.rotate/x', after }],
    ['an empty segment', { path: 'integrations..rotate', after }],
    ['a path that is not a string', { path: ['integrations', 'rotate'], after }],
    ['a path in a list (a string once coerced)', { path: ['integrations.rotate'], after }],
    ['no after', { path: 'integrations.rotate', input: {} }],
    ['an after that is not an object', { path: 'integrations.rotate', after: 'x' }],
    ['no label', { path: 'integrations.rotate', after: { origin: '/', location: '/' } }],
    ['an origin that is not a string', { path: 'integrations.rotate', after: { ...after, origin: 1 } }],
    ['no location', { path: 'integrations.rotate', after: { label: 'x', origin: '/' } }],
  ])('refuses %s', (_name, value) => {
    expect(isPendingAction(value)).toBe(false);
  });
});

describe('call', () => {
  it('calls the mutation at the path’s place in the client, with the input', async () => {
    const seen: unknown[] = [];
    const api = { integrations: { connect: { dockerHub: { mutate: async (input: unknown) => seen.push(input) } } } };
    await call(api as unknown as Api, 'integrations.connect.dockerHub', { org_id: 'a' } as never);
    expect(seen).toEqual([{ org_id: 'a' }]);
  });
});
