export {
  type DecryptOptions,
  type EncryptOptions,
  Fernet,
  generateKey,
  InvalidKey,
  InvalidToken,
  type InvalidTokenReason,
  Keyring,
  keyFingerprint,
} from './fernet';
