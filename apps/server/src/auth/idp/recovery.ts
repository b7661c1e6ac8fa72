import { createHash, randomBytes } from 'node:crypto';

/** How many codes a set holds. Each is 80 random bits, so its SHA-256 alone protects it at rest. */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 16 base32 characters, printed in groups of four (`ABCD-EFGH-JKLM-NPQR`). */
export function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join('-') ?? out;
}

/** What is stored: bound to the user, so a code of one admin is worth nothing for another. */
export function recoveryCodeHash(username: string, code: string): string {
  const normalized = code.replace(/[\s-]+/g, '').toUpperCase();
  return createHash('sha256').update(`alphaswarm-admin/recovery\0${username}\0${normalized}`).digest('hex');
}
