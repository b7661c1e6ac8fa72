import { describe, expect, it } from 'vitest';
import { presentMetadata } from './present';

describe('presentMetadata', () => {
  it('masks emails and anything token-shaped, keeps identifiers', () => {
    const lines = presentMetadata({
      auth_email: 'ops@example.com',
      stray: 'hf_abcdefghijklmnopqrstuvwxyz0123',
      role_arn: 'arn:aws:iam::111122223333:role/x',
      orgs: ['a', 'b'],
    });
    expect(lines).toEqual([
      { key: 'auth email', value: 'o•••@example.com' },
      { key: 'stray', value: '•••• (33 characters hidden)' },
      { key: 'role arn', value: 'arn:aws:iam::111122223333:role/x' },
      { key: 'orgs', value: 'a, b' },
    ]);
  });

  it('flattens one level and drops deeper structure', () => {
    const lines = presentMetadata({ permissions: { missing_optional: [], deep: { x: 1 } }, n: 3 });
    expect(lines).toEqual([
      { key: 'permissions › missing optional', value: '—' },
      { key: 'n', value: '3' },
    ]);
  });
});
