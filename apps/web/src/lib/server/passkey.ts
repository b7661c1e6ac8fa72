import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { toFailure } from './errors';

/** What the browser module posts: the options request, or the authenticator's answer to them. */
export const PasskeyStep = z.discriminatedUnion('step', [
  z.object({ step: z.literal('options'), name: z.string().max(64).optional() }),
  z.object({
    step: z.literal('finish'),
    challenge_id: z.string().max(64),
    // Checked field by field by the API (its WebAuthnResponse contract).
    response: z.record(z.string(), z.unknown()),
    name: z.string().max(64).optional(),
  }),
]);
export type PasskeyStep = z.infer<typeof PasskeyStep>;

/** Read the request body, bounded: a ceremony's answer is a few kilobytes. */
export async function readStep(request: Request): Promise<PasskeyStep | null> {
  const text = await request.text();
  if (text.length > 64 * 1024) return null;
  try {
    return PasskeyStep.safeParse(JSON.parse(text)).data ?? null;
  } catch {
    return null;
  }
}

export const badStep = () =>
  json({ error: 'That request was malformed; reload the page and try again.' }, { status: 400 });

/** A refusal from the API, as the browser module shows it. */
export function refused(error: unknown) {
  const f = toFailure(error);
  return json({ error: f.message }, { status: f.status >= 400 && f.status < 600 ? f.status : 500 });
}
