import { isProviderError, type ProviderError } from '@alphaswarm/contracts';
import { expect } from 'vitest';

/** What `p` rejected with; fails the test when it resolves or throws anything but a ProviderError. */
export async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (error) {
    if (isProviderError(error)) return error;
    throw error;
  }
  throw new Error('expected a ProviderError, got success');
}

/** `rejection` for a provider whose every error names its one upstream, in `upstream` and in the message. */
export function rejectionFrom(upstream: string): (p: Promise<unknown>) => Promise<ProviderError> {
  return async (p) => {
    const error = await rejection(p);
    expect(error.upstream).toBe(upstream);
    expect(error.message).toContain(upstream);
    return error;
  };
}

export function must<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new Error('expected a value');
  return value;
}
