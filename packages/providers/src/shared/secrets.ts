import { ProviderError } from '@alphaswarm/contracts';
import type { z } from 'zod';

/**
 * Last line of the secret boundary: whatever an upstream echoes back (or a user pasted into
 * another field), no ProviderError leaving `fn` carries one of `secrets`. The list is read when
 * `fn` fails, so a secret minted on the way (a session token pushed onto it) is covered too.
 */
export async function guardSecrets<T>(
  secrets: readonly string[],
  fn: () => Promise<T>,
  { minLength = 1 }: { minLength?: number } = {},
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ProviderError) {
      let message = error.message;
      for (const s of secrets) if (s.length >= minLength) message = message.split(s).join('[redacted]');
      if (message !== error.message) throw new ProviderError(error.code, error.upstream, message, error.details);
    }
    throw error;
  }
}

/** The decrypted secret of a stored link, or secret_unreadable saying how to replace it. */
export function readStoredSecret<S>(schema: z.ZodType<S>, secret: unknown, upstream: string, hint: string): S {
  const parsed = schema.safeParse(secret);
  if (!parsed.success) {
    throw new ProviderError(
      'secret_unreadable',
      upstream,
      `The stored ${upstream} secret for this link is missing or malformed. ${hint}`,
    );
  }
  return parsed.data;
}
