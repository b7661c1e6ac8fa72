import { generateSync } from 'otplib';

const PERIOD = 30;
const lastStep = new Map<string, number>();

/**
 * A TOTP code the IdP will accept. Each time step is good for one use per admin, and the IdP also
 * takes the code of the next step (an authenticator whose clock runs ahead), so a second use within
 * one step takes the next step's code at once; only a third use within one step waits for a new one.
 */
export async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const now = Math.floor(Date.now() / 1000 / PERIOD);
    const step = Math.max(now, (lastStep.get(secret) ?? -1) + 1);
    if (step <= now + 1) {
      lastStep.set(secret, step);
      return generateSync({ secret, epoch: step * PERIOD });
    }
    await new Promise((r) => setTimeout(r, (now + 1) * PERIOD * 1000 - Date.now() + 50));
  }
}
