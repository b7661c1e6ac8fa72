// The browser half of the passkey ceremonies: ask the console's server for options, hand them to
// the authenticator through @simplewebauthn/browser, send its answer back. Bundled, never inline (CSP).
// The library is loaded on the first ceremony, not with every page that offers one (the step-up
// dialog is on all of them): a page is interactive sooner without it.

/** What the console's passkey endpoints answer. */
export interface PasskeyReply {
  /** Where to go now (signed in, stepped up, enrolled). */
  location?: string;
  /** Why it did not work, to show beside the button. */
  error?: string;
  /** The MFA is stale: the step-up dialog takes over, with this label. */
  step_up?: string;
}

async function post(endpoint: string, body: Record<string, unknown>): Promise<PasskeyReply & Record<string, unknown>> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  try {
    return (await res.json()) as PasskeyReply & Record<string, unknown>;
  } catch {
    return { error: 'The console did not answer; try again.' };
  }
}

type WebAuthn = typeof import('@simplewebauthn/browser');

function browserError(webauthn: WebAuthn, error: unknown): string {
  if (error instanceof webauthn.WebAuthnError && error.code === 'ERROR_CEREMONY_ABORTED')
    return 'The passkey prompt was cancelled.';
  if (error instanceof Error && error.name === 'NotAllowedError') {
    return 'The passkey prompt was cancelled or timed out, or no passkey here belongs to this site.';
  }
  return error instanceof Error ? error.message : 'The passkey prompt failed.';
}

/**
 * One ceremony against `endpoint`: `register` (a new passkey, `extra.name`) or `authenticate`
 * (sign-in or step-up). Resolves to the server's verdict; never throws.
 */
export async function passkeyCeremony(
  endpoint: string,
  kind: 'register' | 'authenticate',
  extra: Record<string, string> = {},
): Promise<PasskeyReply> {
  const [begin, webauthn] = await Promise.all([
    post(endpoint, { step: 'options', ...extra }),
    import('@simplewebauthn/browser').catch(() => null),
  ]);
  if (begin.error || begin.step_up || !begin.options) return begin;
  if (!webauthn) return { error: 'The passkey support of this page did not load; reload it and try again.' };
  let response: unknown;
  try {
    response =
      kind === 'register'
        ? await webauthn.startRegistration({
            optionsJSON: begin.options as Parameters<WebAuthn['startRegistration']>[0]['optionsJSON'],
          })
        : await webauthn.startAuthentication({
            optionsJSON: begin.options as Parameters<WebAuthn['startAuthentication']>[0]['optionsJSON'],
          });
  } catch (error) {
    return { error: browserError(webauthn, error) };
  }
  return post(endpoint, { step: 'finish', challenge_id: begin.challenge_id, response, ...extra });
}
