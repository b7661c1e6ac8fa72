export {
  Fernet,
  InvalidKey,
  InvalidToken,
  Keyring,
  generateKey,
  keyFingerprint,
  type DecryptOptions,
  type EncryptOptions,
  type InvalidTokenReason,
} from './fernet';
