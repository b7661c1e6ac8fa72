/** What sealing needs from a keyring: first key encrypts, every key decrypts. */
export interface SecretCipher {
  encrypt(data: Buffer | string): string;
  decrypt(token: string | Buffer): Buffer;
}

/** Encrypt a secret object as a Fernet token over its UTF-8 JSON (the store-file format). */
export function sealSecret(cipher: SecretCipher, secret: unknown): string {
  return cipher.encrypt(Buffer.from(JSON.stringify(secret), 'utf8'));
}

/** Decrypt a stored secret; throws the keyring's InvalidToken when no key reads it. */
export function openSecret(cipher: SecretCipher, token: string): unknown {
  return JSON.parse(cipher.decrypt(token).toString('utf8'));
}
