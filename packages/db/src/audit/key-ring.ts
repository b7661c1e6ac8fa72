import { createHash, createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

const KEY_HINT =
  'an audit key is 32 bytes of url-safe base64, e.g. from `alphaswarm-admin generate-key` (a separate key from the integrations key)';

/** A bad audit key or key list. The message gives the entry's position, never a key. */
export class InvalidAuditKey extends Error {
  override readonly name = 'InvalidAuditKey';
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

/** One HMAC key of the audit chain. Its id is recorded on every row it links. */
export class AuditKey {
  readonly id: string;
  readonly #key: KeyObject;

  constructor(raw: Uint8Array) {
    if (raw.length !== 32) throw new InvalidAuditKey(KEY_HINT);
    this.id = `ak_${createHash('sha256').update(raw).digest('hex').slice(0, 12)}`;
    this.#key = createSecretKey(Buffer.from(raw));
  }

  static fromText(text: string): AuditKey {
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) throw new InvalidAuditKey(KEY_HINT);
    return new AuditKey(Buffer.from(trimmed, 'base64url'));
  }

  static generate(): AuditKey {
    return new AuditKey(randomBytes(32));
  }

  /** HMAC-SHA256, hex. */
  mac(data: string | Uint8Array): string {
    return createHmac('sha256', this.#key).update(data).digest('hex');
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }
}

/**
 * The audit chain's keys (`ALPHASWARM_ADMIN_AUDIT_KEY`, one key or a comma-separated list): the
 * first links new rows, every key verifies the rows it linked. Rotating = putting a new key first
 * and keeping the old ones listed; the appender records the switch as an `audit.key_rotated` row.
 */
export class AuditKeyRing {
  readonly #keys: ReadonlyMap<string, AuditKey>;
  readonly primary: AuditKey;

  constructor(keys: readonly AuditKey[]) {
    const [primary] = keys;
    if (!primary) throw new InvalidAuditKey(`an audit key ring needs at least one key; ${KEY_HINT}`);
    this.primary = primary;
    this.#keys = new Map(keys.map((k) => [k.id, k]));
  }

  static fromEnv(value: string): AuditKeyRing {
    const entries = value.split(',');
    return new AuditKeyRing(
      entries.map((entry, index) => {
        const where = `key ${index + 1} of ${entries.length}`;
        if (entry.trim() === '')
          throw new InvalidAuditKey(`${where} is empty (a stray comma?); ${KEY_HINT}`, index + 1);
        try {
          return AuditKey.fromText(entry);
        } catch {
          throw new InvalidAuditKey(`${where} is not valid: ${KEY_HINT}`, index + 1);
        }
      }),
    );
  }

  get(id: string): AuditKey | undefined {
    return this.#keys.get(id);
  }

  ids(): string[] {
    return [...this.#keys.keys()];
  }

  toJSON(): { ids: string[] } {
    return { ids: this.ids() };
  }
}
