/**
 * Fernet (github.com/fernet/spec), byte-compatible with Python's `cryptography.fernet`:
 * a token written by either side is read by the other, and both accept and reject the same tokens.
 * Built on node:crypto only.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 0x80;
const IV_OFFSET = 9;
const CIPHERTEXT_OFFSET = 25;
const MAC_LENGTH = 32;
const BLOCK = 16;
/** Version + timestamp + IV + one cipher block + HMAC: anything shorter cannot decrypt. */
const MIN_TOKEN_LENGTH = CIPHERTEXT_OFFSET + BLOCK + MAC_LENGTH;
const MAX_CLOCK_SKEW = 60;

const KEY_HINT = 'a Fernet key is 32 bytes of url-safe base64, e.g. from `alphaswarm-admin generate-key`';

/** A key that cannot be used. The message never contains the key. */
export class InvalidKey extends Error {
  override readonly name = 'InvalidKey';
  /** 1-based position of the bad entry when parsing a key list. */
  readonly position: number | undefined;

  constructor(message: string, position?: number) {
    super(message);
    this.position = position;
  }
}

export type InvalidTokenReason = 'malformed' | 'signature' | 'padding' | 'expired' | 'future';

const REASON_TEXT: Record<InvalidTokenReason, string> = {
  malformed: 'it is not a well-formed Fernet token',
  signature: 'its signature does not match the key (another key, or tampered)',
  padding: 'its ciphertext does not decrypt',
  expired: 'it is older than the allowed age',
  future: 'its timestamp is too far in the future',
};

/** Every way a token can fail to decrypt. The message never contains the token or a key. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
  readonly reason: InvalidTokenReason;

  constructor(reason: InvalidTokenReason) {
    super(`invalid Fernet token: ${REASON_TEXT[reason]}`);
    this.reason = reason;
  }
}

export interface EncryptOptions {
  /** Timestamp to embed (default: now). */
  now?: Date;
  /** Fixed 16-byte IV, for spec vectors only; never reuse an IV in production. */
  iv?: Uint8Array;
}

export interface DecryptOptions {
  /** Maximum age in seconds; also enables the 60 s future clock-skew check, as in Python. */
  ttl?: number;
  /** Clock for the TTL checks (default: now). */
  now?: Date;
}

/** Python's `Fernet.generate_key()`: url-safe base64 of 32 random bytes, padded. */
export function generateKey(): string {
  return encodeUrlsafe(randomBytes(32));
}

/** A short, non-reversible id of a key so operators can tell keys apart. Throws InvalidKey. */
export function keyFingerprint(key: string): string {
  return fingerprintOf(decodeKey(key));
}

// Module-private hooks so Keyring can decode a token once and try every key with it.
const seal = Symbol('seal');
const open = Symbol('open');
const verify = Symbol('verify');

interface TimeCheck {
  ttl: number;
  now: number;
}

export class Fernet {
  readonly fingerprint: string;
  readonly #signingKey: KeyObject;
  readonly #encryptionKey: KeyObject;

  constructor(key: string) {
    const raw = decodeKey(key);
    this.fingerprint = fingerprintOf(raw);
    this.#signingKey = createSecretKey(raw.subarray(0, 16));
    this.#encryptionKey = createSecretKey(raw.subarray(16, 32));
    raw.fill(0);
  }

  encrypt(data: Uint8Array | string, opts?: EncryptOptions): string {
    const seconds = opts?.now === undefined ? Math.floor(Date.now() / 1000) : epochSeconds(opts.now);
    return this[seal](toBytes(data), seconds, opts?.iv);
  }

  decrypt(token: string | Uint8Array, opts?: DecryptOptions): Buffer {
    const result = this[open](parseToken(token), timeCheck(opts));
    if (typeof result === 'string') throw new InvalidToken(result);
    return result;
  }

  /** The token's creation time in Unix seconds, after checking its signature. */
  extractTimestamp(token: string | Uint8Array): number {
    const data = parseToken(token);
    if (!this[verify](data)) throw new InvalidToken('signature');
    return readTimestamp(data);
  }

  /** Keys never show up in logs or JSON. */
  toJSON(): { fingerprint: string } {
    return { fingerprint: this.fingerprint };
  }

  [seal](plaintext: Uint8Array, seconds: number, iv: Uint8Array | undefined): string {
    const cipherLength = (plaintext.length & ~(BLOCK - 1)) + BLOCK;
    const macOffset = CIPHERTEXT_OFFSET + cipherLength;
    const out = Buffer.allocUnsafe(macOffset + MAC_LENGTH);
    out[0] = VERSION;
    out.writeUInt32BE(Math.floor(seconds / 2 ** 32), 1);
    out.writeUInt32BE(seconds >>> 0, 5);
    if (iv === undefined) {
      fillIv(out);
    } else {
      if (iv.length !== BLOCK) throw new RangeError('a Fernet IV is 16 bytes');
      out.set(iv, IV_OFFSET);
    }
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, out.subarray(IV_OFFSET, CIPHERTEXT_OFFSET));
    const body = cipher.update(plaintext);
    out.set(body, CIPHERTEXT_OFFSET);
    out.set(cipher.final(), CIPHERTEXT_OFFSET + body.length);
    const mac = createHmac('sha256', this.#signingKey).update(out.subarray(0, macOffset)).digest();
    out.set(mac, macOffset);
    return encodeUrlsafe(out);
  }

  [verify](data: Buffer): boolean {
    const macOffset = data.length - MAC_LENGTH;
    const mac = createHmac('sha256', this.#signingKey).update(data.subarray(0, macOffset)).digest();
    return timingSafeEqual(mac, data.subarray(macOffset));
  }

  /** Plaintext, or why the token fails; the signature is checked before anything else is trusted. */
  [open](data: Buffer, time: TimeCheck | undefined): Buffer | InvalidTokenReason {
    if (!this[verify](data)) return 'signature';
    if (time !== undefined) {
      const timestamp = readTimestamp(data);
      if (timestamp + time.ttl < time.now) return 'expired';
      if (time.now + MAX_CLOCK_SKEW < timestamp) return 'future';
    }
    // Padding is checked by hand so the plaintext is returned without a concat; no padding
    // oracle is possible since the HMAC already proved the ciphertext is the key holder's.
    const decipher = createDecipheriv(
      'aes-128-cbc',
      this.#encryptionKey,
      data.subarray(IV_OFFSET, CIPHERTEXT_OFFSET),
    ).setAutoPadding(false);
    const padded = decipher.update(data.subarray(CIPHERTEXT_OFFSET, data.length - MAC_LENGTH));
    decipher.final();
    const pad = padded[padded.length - 1] ?? 0;
    if (pad < 1 || pad > BLOCK) return 'padding';
    for (let i = padded.length - pad; i < padded.length - 1; i++) {
      if (padded[i] !== pad) return 'padding';
    }
    return padded.subarray(0, padded.length - pad);
  }
}

/**
 * Python's MultiFernet over the configured key list: the first key encrypts, every key decrypts,
 * and rotate re-encrypts under the first key keeping the original timestamp.
 */
export class Keyring {
  readonly #fernets: readonly Fernet[];
  readonly #primary: Fernet;

  constructor(fernets: readonly Fernet[]) {
    const [primary] = fernets;
    if (primary === undefined) throw new InvalidKey(`a keyring needs at least one key; ${KEY_HINT}`);
    this.#fernets = [...fernets];
    this.#primary = primary;
  }

  /**
   * Parse one key or a comma-separated list (spaces around entries are ignored). Errors give
   * the 1-based position of the bad entry, never its value.
   */
  static fromEnv(value: string | undefined): Keyring {
    if (value === undefined || value.trim() === '') {
      throw new InvalidKey(`no Fernet key given: set one key or a comma-separated list; ${KEY_HINT}`);
    }
    const entries = value.split(',');
    const fernets = entries.map((entry, index) => {
      const position = index + 1;
      const where = `key ${position} of ${entries.length}`;
      const trimmed = entry.trim();
      if (trimmed === '') throw new InvalidKey(`${where} is empty (a stray comma?); ${KEY_HINT}`, position);
      try {
        return new Fernet(trimmed);
      } catch (error) {
        if (error instanceof InvalidKey) throw new InvalidKey(`${where} is not valid: ${KEY_HINT}`, position);
        throw error;
      }
    });
    return new Keyring(fernets);
  }

  /** Fingerprints in key order; the first is the one that encrypts. */
  fingerprints(): string[] {
    return this.#fernets.map((f) => f.fingerprint);
  }

  encrypt(data: Uint8Array | string, opts?: EncryptOptions): string {
    return this.#primary.encrypt(data, opts);
  }

  decrypt(token: string | Uint8Array, opts?: DecryptOptions): Buffer {
    return this.decryptNoting(token, opts).plaintext;
  }

  /** Like decrypt, and says whether the first key (the one that encrypts) is the one that read it. */
  decryptNoting(token: string | Uint8Array, opts?: DecryptOptions): { plaintext: Buffer; primary: boolean } {
    const data = parseToken(token);
    const time = timeCheck(opts);
    let reason: InvalidTokenReason = 'signature';
    for (const fernet of this.#fernets) {
      const result = fernet[open](data, time);
      if (typeof result !== 'string') return { plaintext: result, primary: fernet === this.#primary };
      // A reason other than 'signature' comes from the key that signed the token: keep it.
      if (result !== 'signature') reason = result;
    }
    throw new InvalidToken(reason);
  }

  /** Re-encrypt under the first key with the token's original timestamp (no TTL check). */
  rotate(token: string | Uint8Array): string {
    const data = parseToken(token);
    let reason: InvalidTokenReason = 'signature';
    for (const fernet of this.#fernets) {
      const result = fernet[open](data, undefined);
      if (typeof result === 'string') {
        if (result !== 'signature') reason = result;
        continue;
      }
      return this.#primary[seal](result, readTimestamp(data), undefined);
    }
    throw new InvalidToken(reason);
  }

  /**
   * The token under the first key: unchanged when the first key already reads it (its signature
   * and padding checked, its plaintext decrypted and wiped), otherwise as `rotate` gives it.
   * Importing a file written under the current key then skips a pointless re-encryption.
   */
  underPrimary(token: string): string {
    const data = parseToken(token);
    const plaintext = this.#primary[open](data, undefined);
    if (typeof plaintext === 'string') return this.rotate(token);
    plaintext.fill(0);
    // A spelling only Python's lenient decoder reads is stored in the canonical one.
    return isCanonicalToken(token) ? token : encodeUrlsafe(data);
  }

  extractTimestamp(token: string | Uint8Array): number {
    const data = parseToken(token);
    for (const fernet of this.#fernets) {
      if (fernet[verify](data)) return readTimestamp(data);
    }
    throw new InvalidToken('signature');
  }

  toJSON(): { fingerprints: string[] } {
    return { fingerprints: this.fingerprints() };
  }
}

function decodeKey(key: string): Buffer {
  const raw = typeof key === 'string' ? decodeUrlsafe(key, false) : undefined;
  if (raw === undefined || raw.length !== 32) throw new InvalidKey(KEY_HINT);
  return raw;
}

function fingerprintOf(raw: Buffer): string {
  return `fp_${createHash('sha256').update(raw).digest('hex').slice(0, 12)}`;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new TypeError('Fernet encrypts a string or bytes');
}

function epochSeconds(date: Date): number {
  const ms = date.getTime();
  if (!(ms >= 0)) throw new RangeError('a Fernet timestamp is a valid date not before 1970');
  return Math.floor(ms / 1000);
}

function timeCheck(opts: DecryptOptions | undefined): TimeCheck | undefined {
  const ttl = opts?.ttl;
  if (ttl === undefined) return undefined;
  // NaN would silently disable both checks.
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) throw new RangeError('ttl is a number of seconds');
  const now = opts?.now === undefined ? Date.now() : opts.now.getTime();
  if (Number.isNaN(now)) throw new RangeError('now is not a valid date');
  return { ttl, now: Math.floor(now / 1000) };
}

/** Beyond 2^53 s the value is rounded; such a timestamp is ~285 million years away. */
function readTimestamp(data: Buffer): number {
  return data.readUInt32BE(1) * 2 ** 32 + data.readUInt32BE(5);
}

function parseToken(token: string | Uint8Array): Buffer {
  let data: Buffer | undefined;
  if (typeof token === 'string') data = decodeUrlsafe(token, false);
  else if (token instanceof Uint8Array) {
    data = decodeUrlsafe(Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('latin1'), true);
  }
  if (
    data === undefined ||
    data.length < MIN_TOKEN_LENGTH ||
    data[0] !== VERSION ||
    (data.length - CIPHERTEXT_OFFSET - MAC_LENGTH) % BLOCK !== 0
  ) {
    throw new InvalidToken('malformed');
  }
  return data;
}

const IV_POOL_SIZE = 4096;
const ivPool = Buffer.allocUnsafe(IV_POOL_SIZE);
let ivPoolOffset = IV_POOL_SIZE;

/** One CSPRNG call per 256 IVs: a call per token costs more than the AES of a small secret. */
function fillIv(out: Buffer): void {
  if (ivPoolOffset === IV_POOL_SIZE) {
    randomFillSync(ivPool);
    ivPoolOffset = 0;
  }
  ivPool.copy(out, IV_OFFSET, ivPoolOffset, ivPoolOffset + BLOCK);
  ivPoolOffset += BLOCK;
}

function encodeUrlsafe(bytes: Buffer): string {
  const encoded = bytes.toString('base64url');
  const rest = bytes.length % 3;
  return rest === 0 ? encoded : rest === 1 ? `${encoded}==` : `${encoded}=`;
}

const CANONICAL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Spelled as Fernet writes tokens (url-safe alphabet, padded), not just accepted by a lenient decoder. */
export function isCanonicalToken(token: string): boolean {
  return (token.length & 3) === 0 && CANONICAL.test(token);
}

// Python's urlsafe_b64decode maps '-' '_' to '+' '/', so both alphabets are accepted.
const B64_VALUE = new Uint8Array(128).fill(255);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'].entries()) {
  B64_VALUE[c.charCodeAt(0)] = i;
}
B64_VALUE['+'.charCodeAt(0)] = 62;
B64_VALUE['-'.charCodeAt(0)] = 62;
B64_VALUE['/'.charCodeAt(0)] = 63;
B64_VALUE['_'.charCodeAt(0)] = 63;

/**
 * Python's `base64.urlsafe_b64decode` (CPython's non-strict a2b_base64): characters outside the
 * alphabet are skipped, a complete pad sequence ends the input, and a dangling partial quantum is
 * an error. Matching it exactly means we accept precisely the tokens and keys Python accepts.
 * Canonical input (what both sides produce) takes Node's native decoder.
 */
function decodeUrlsafe(text: string, fromBytes: boolean): Buffer | undefined {
  if (isCanonicalToken(text)) return Buffer.from(text, 'base64url');
  const out = Buffer.allocUnsafe(Math.ceil(text.length / 4) * 3);
  let length = 0;
  let quad = 0;
  let left = 0;
  let pads = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Python rejects a non-ASCII str outright but skips non-ASCII bytes.
    if (code > 127 && !fromBytes) return undefined;
    if (code === 61) {
      if (quad >= 2 && quad + ++pads >= 4) return out.subarray(0, length);
      continue;
    }
    const value = code > 127 ? 255 : (B64_VALUE[code] ?? 255);
    if (value === 255) continue;
    pads = 0;
    if (quad === 0) {
      left = value;
    } else if (quad === 1) {
      out[length++] = (left << 2) | (value >> 4);
      left = value & 0x0f;
    } else if (quad === 2) {
      out[length++] = ((left << 4) | (value >> 2)) & 0xff;
      left = value & 0x03;
    } else {
      out[length++] = ((left << 6) | value) & 0xff;
    }
    quad = (quad + 1) & 3;
  }
  return quad === 0 ? out.subarray(0, length) : undefined;
}
