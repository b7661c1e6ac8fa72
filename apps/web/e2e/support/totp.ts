import { generateSync } from 'otplib';

const PERIOD = 30;
const lastStep = new Map<string, number>();

/**
 * A TOTP code the IdP will accept: each time step is good for one use only, so wait for a step
 * later than the last one this process used with the secret.
 */
export async function freshCode(secret: string): Promise<string> {
  const used = lastStep.get(secret) ?? -1;
  for (;;) {
    const step = Math.floor(Date.now() / 1000 / PERIOD);
    if (step > used) {
      lastStep.set(secret, step);
      return generateSync({ secret });
    }
    await new Promise((r) => setTimeout(r, (step + 1) * PERIOD * 1000 - Date.now() + 50));
  }
}
