import { describe, expect, it } from 'vitest';
import { fieldMessage } from './failure';
import { parseRecipe } from './recipe';

describe('recipes render as steps, not raw markdown', () => {
  it('reads headings, numbered steps with their indented lists, continuation lines and inline code', () => {
    const blocks = parseRecipe(
      '# Token for `acme`\n\nIntro line one\nline two.\n\n1. Open the dashboard.\n2. Name it `alphaswarm-acme`.\n3. Permissions:\n   - DNS Read (required)\n   - Zone Read (optional)\n4. TTL: set an end date\n   no later than 2027-01-01.\n',
    );
    expect(blocks).toEqual([
      {
        type: 'heading',
        text: [
          { code: false, text: 'Token for ' },
          { code: true, text: 'acme' },
        ],
      },
      {
        type: 'paragraph',
        text: [
          { code: false, text: 'Intro line one' },
          { code: false, text: ' ' },
          { code: false, text: 'line two.' },
        ],
      },
      {
        type: 'steps',
        items: [
          { text: [{ code: false, text: 'Open the dashboard.' }], sub: [] },
          {
            text: [
              { code: false, text: 'Name it ' },
              { code: true, text: 'alphaswarm-acme' },
              { code: false, text: '.' },
            ],
            sub: [],
          },
          {
            text: [{ code: false, text: 'Permissions:' }],
            sub: [[{ code: false, text: 'DNS Read (required)' }], [{ code: false, text: 'Zone Read (optional)' }]],
          },
          {
            text: [
              { code: false, text: 'TTL: set an end date' },
              { code: false, text: ' ' },
              { code: false, text: 'no later than 2027-01-01.' },
            ],
            sub: [],
          },
        ],
      },
    ]);
  });

  it('field errors drop the params.x: path the input already names', () => {
    const failure = { code: 'invalid_request', field: 'client_id', upstream: null, status: 400 };
    expect(fieldMessage({ ...failure, message: 'params.client_id: Invalid UUID' }, 'client_id')).toBe('Invalid UUID');
    expect(fieldMessage({ ...failure, message: 'token: Too short; token.0: bad' }, 'token')).toBe('Too short; bad');
    expect(fieldMessage({ ...failure, message: 'Enter the client id.' }, 'client_id')).toBe('Enter the client id.');
  });
});
