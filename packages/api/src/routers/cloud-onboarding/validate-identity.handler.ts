import type { CloudKind, IdentityResult } from '@alphaswarm/contracts';
import type { WizardRow } from '@alphaswarm/db';
import { descriptors, type IdentityParams } from '@alphaswarm/providers';
import { AppError } from '../../errors';
import * as wizard from '../../services/wizard';
import type { Context } from '../../trpc';
import type { ValidateIdentityInput } from './cloud-onboarding.schema';

/**
 * Step 2. Which schema the params must meet is known only once the session names its kind: they
 * are checked here, once, against that kind's descriptor, and typed from here on.
 */
export async function validateIdentityHandler(ctx: Context, input: ValidateIdentityInput): Promise<IdentityResult> {
  return validateIdentityOf(ctx, await wizard.loadSession(ctx, input.session_id, input), input.params);
}

/** The same check for a session already opened (the hand-off page opens it by its link). */
export async function validateIdentityOf(
  ctx: Context,
  session: WizardRow,
  params: Record<string, unknown>,
): Promise<IdentityResult> {
  const parsed = descriptors[session.kind as CloudKind].inputSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      'invalid_request',
      // `field` travels apart for forms (the console shows the sentence alone beside it); API
      // callers still read which param it was, without the internal `params.` path.
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${sentence(i.path, i.message)}`).join('; '),
      issue ? { field: String(issue.path[0] ?? '') } : {},
    );
  }
  return wizard.validateIdentity(ctx, session, parsed.data as IdentityParams);
}

/** zod's own wording for a missing field names no field; say which one. */
function sentence(path: PropertyKey[], message: string): string {
  const name = String(path[0] ?? 'params').replace(/_/g, ' ');
  if (/^Invalid input: expected \w+, received undefined$/.test(message)) return `Enter the ${name}.`;
  return /[.!?]$/.test(message) ? message : `${message}.`;
}
