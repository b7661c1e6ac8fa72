import { ProviderError } from '@alphaswarm/contracts';
import { describe, expect, it } from 'vitest';
import { rejection } from '../testing/assertions';
import { guardSecrets, missingSecret } from './secrets';

const fail = (message: string) => () => Promise.reject(new ProviderError('credential_rejected', 'X', message));

describe('guardSecrets', () => {
  it('redacts every listed secret, including one added while fn ran, and keeps code, upstream and details', async () => {
    const secrets = ['pat-1'];
    const error = await rejection(
      guardSecrets(secrets, async () => {
        secrets.push('jwt-2');
        throw new ProviderError('namespace_denied', 'X', 'echoed pat-1 and jwt-2 twice: pat-1', { status: 403 });
      }),
    );
    expect(error).toMatchObject({
      code: 'namespace_denied',
      upstream: 'X',
      message: 'echoed [redacted] and [redacted] twice: [redacted]',
      details: { status: 403 },
    });
  });

  it('leaves values shorter than minLength alone, and anything but a ProviderError untouched', async () => {
    expect((await rejection(guardSecrets(['abc'], fail('abc def'), { minLength: 4 }))).message).toBe('abc def');
    expect((await rejection(guardSecrets(['abcd'], fail('abcd def'), { minLength: 4 }))).message).toBe(
      '[redacted] def',
    );
    expect((await rejection(guardSecrets(['abc'], fail('abc def')))).message).toBe('[redacted] def');
    // An unset (empty) secret would otherwise put '[redacted]' between every character.
    expect((await rejection(guardSecrets(['', 'abc'], fail('abc def')))).message).toBe('[redacted] def');
    const raw = new Error('raw abc');
    await expect(guardSecrets(['abc'], () => Promise.reject(raw))).rejects.toBe(raw);
  });

  it('rethrows an error that echoes no secret as it is', async () => {
    const clean = new ProviderError('credential_rejected', 'X', 'nothing secret here');
    await expect(guardSecrets(['abc'], () => Promise.reject(clean))).rejects.toBe(clean);
  });
});

describe('missingSecret', () => {
  it('is secret_unreadable, naming the upstream and saying how to replace the secret', () => {
    expect(missingSecret('Docker Hub', 'Reconnect the link with a new PAT.')).toMatchObject({
      code: 'secret_unreadable',
      upstream: 'Docker Hub',
      message: 'The stored Docker Hub secret for this link is missing. Reconnect the link with a new PAT.',
    });
  });
});
