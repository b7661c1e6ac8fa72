import { ProviderError } from '@alphaswarm/contracts';
import type { ProviderContext } from '../types';

/** Our workload subject token for a federated exchange; failing to mint it is our fault, not the customer's. */
export async function mintSubjectToken(
  ctx: ProviderContext,
  upstream: string,
  claims: { sub: string; aud: string },
): Promise<string> {
  try {
    return await ctx.workload.mint(claims);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(
      'internal',
      upstream,
      'Could not mint our workload identity token; check the workload issuer keys.',
    );
  }
}
