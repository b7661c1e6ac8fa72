import { describe, expect, it } from 'vitest';
import { safeNext } from './next';

const ORIGIN = 'https://console.example';

describe('safeNext: where sign-in may send the admin', () => {
  it('keeps paths of this console, with their query and fragment', () => {
    expect(safeNext('/orgs/org-acme', ORIGIN)).toBe('/orgs/org-acme');
    expect(safeNext('/audit?run_id=run_1#top', ORIGIN)).toBe('/audit?run_id=run_1#top');
    expect(safeNext('/orgs/a%20b', ORIGIN)).toBe('/orgs/a%20b');
    // A path segment named "javascript:" is only a path on our origin.
    expect(safeNext('/javascript:alert(1)', ORIGIN)).toBe('/javascript:alert(1)');
    expect(safeNext(`/${'a'.repeat(2047)}`, ORIGIN)).toHaveLength(2048);
    expect(safeNext('/logins', ORIGIN)).toBe('/logins');
  });

  it('with an origin it cannot parse, sends every path home', () => {
    expect(safeNext('/orgs', 'not a url')).toBe('/');
  });

  it.each([
    ['nothing', null],
    ['empty', ''],
    ['protocol-relative', '//evil.example'],
    ['protocol-relative with a path', '//evil.example/orgs'],
    ['backslash', '/\\evil.example'],
    ['backslashes', '\\\\evil.example'],
    ['tab (next=/%09/host)', '/\t/evil.example'],
    ['line feed (next=/%0A/host)', '/\n/evil.example'],
    ['carriage return', '/\r/evil.example'],
    ['a bare line feed (next=%0A)', '\n'],
    ['a trailing line feed', '/orgs\n'],
    ['NUL', '/\u0000/evil.example'],
    ['dot segment that re-serialises to //', '/.//evil.example'],
    ['encoded dot segment', '/%2e//evil.example'],
    ['absolute http URL', 'http://evil.example/'],
    ['absolute https URL', 'https://evil.example/orgs'],
    ['our own origin spelled out', 'https://console.example/orgs'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['relative path', 'orgs/org-acme'],
    ['the sign-in page', '/login'],
    ['the sign-in page with a next of its own', '/login?next=//evil.example'],
    ['very long', `/${'a'.repeat(5000)}`],
    ['just over 2048 characters', `/${'a'.repeat(2048)}`],
    ['a page of sign-in', '/login/sso/callback'],
  ])('%s → /', (_name, raw) => {
    expect(safeNext(raw, ORIGIN)).toBe('/');
  });

  it('every answer, resolved as a browser resolves a Location header, stays on our origin', () => {
    for (const raw of ['/\t/x', '/\\x', '//x', '/.//x', '/%09/x', '/ok', '/%2F%2Fx', '/\u3000/x']) {
      const target = safeNext(raw, ORIGIN);
      expect(new URL(target, ORIGIN).origin, raw).toBe(ORIGIN);
      expect(target).not.toMatch(/^\/\//);
    }
  });
});
