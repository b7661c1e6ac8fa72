import { generateKey, InvalidKey, Keyring } from '@alphaswarm/db';
import { ConfigError, type Env } from '../env';

export interface KeyringInfo {
  keyring: Keyring;
  /** A key minted for this process only: secrets stored now die with it. */
  ephemeral: boolean;
  /** Key fingerprints in order; the first encrypts. Safe to log. */
  fingerprints: string[];
  /** A loud warning for the caller to log, or null. */
  warning: string | null;
}

const KEY_VAR = 'ALPHASWARM_ADMIN_INTEGRATIONS_KEY';
const HOW_TO = 'generate one with `alphaswarm-admin generate-key`';

/**
 * The keyring from ALPHASWARM_ADMIN_INTEGRATIONS_KEY (one key, or a comma-separated list whose
 * first key encrypts). Without a key: an ephemeral key outside production, a ConfigError in it.
 * Errors name the variable and the bad entry's position, never a key.
 */
export function loadKeyring(env: Env): KeyringInfo {
  const value = env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY;
  if (value === undefined || value.trim() === '') {
    if (env.production) {
      throw new ConfigError(
        `${KEY_VAR} is not set: production refuses to start without the key that encrypts stored secrets; ${HOW_TO}, set it, and keep a copy.`,
      );
    }
    const keyring = Keyring.fromEnv(generateKey());
    return {
      keyring,
      ephemeral: true,
      fingerprints: keyring.fingerprints(),
      warning:
        `WARNING: ${KEY_VAR} is not set, so an EPHEMERAL encryption key (${keyring.fingerprints()[0]}) is in use. ` +
        'Secrets stored by this process cannot be decrypted after it stops; those links will need reconnecting. ' +
        `For anything but a throwaway run, ${HOW_TO} and set ${KEY_VAR}.`,
    };
  }
  try {
    const keyring = Keyring.fromEnv(value);
    return { keyring, ephemeral: false, fingerprints: keyring.fingerprints(), warning: null };
  } catch (error) {
    if (error instanceof InvalidKey) throw new ConfigError(`${KEY_VAR}: ${error.message}`);
    throw error;
  }
}
