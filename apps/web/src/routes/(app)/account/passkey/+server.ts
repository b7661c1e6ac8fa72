import { json } from '@sveltejs/kit';
import { isStepUpNeeded, toFailure } from '$lib/server/errors';
import { badStep, readStep, refused } from '$lib/server/passkey';
import { addFlash, setPending } from '$lib/server/session';
import type { RequestHandler } from './$types';

/** Enrol a passkey for the signed-in admin: needs a fresh MFA (the step-up dialog otherwise). */
export const POST: RequestHandler = async ({ request, locals }) => {
  const session = locals.session;
  if (!session?.tokens) return json({ error: 'Sign in again.', location: '/login' }, { status: 401 });
  const step = await readStep(request);
  if (!step) return badStep();
  try {
    if (step.step === 'options') return json(await locals.api.auth.passkeyRegisterOptions.mutate());
    const added = await locals.api.auth.passkeyRegister.mutate({
      challenge_id: step.challenge_id,
      name: step.name ?? '',
      response: step.response as never,
    });
    addFlash(session, { notice: { text: `Added the passkey “${added.name}”.` } });
    return json({ location: '/account' });
  } catch (error) {
    if (isStepUpNeeded(toFailure(error))) {
      // After the step-up the admin is back on the account page and adds the passkey again.
      const action = {
        path: null,
        after: {
          label: 'Add a passkey to your account',
          origin: '/account',
          location: '/account',
          notice: 'Verified: add your passkey now.',
        },
      } as const;
      setPending(session, action);
      return json({ step_up: action.after.label }, { status: 401 });
    }
    return refused(error);
  }
};
