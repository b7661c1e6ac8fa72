import { ProviderError } from '@alphaswarm/contracts';

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

/**
 * A stored link handed over without its secret (its schema was checked when it was unsealed, so
 * only absence is left to refuse): secret_unreadable saying how to replace it.
 */
export function missingSecret(upstream: string, hint: string): ProviderError {
  return new ProviderError(
    'secret_unreadable',
    upstream,
    `The stored ${upstream} secret for this link is missing. ${hint}`,
  );
}
