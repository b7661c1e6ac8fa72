import { randomUUID } from 'node:crypto';
import {
  activeSigningKey,
  type Database,
  InvalidToken,
  type IssuerName,
  insertSigningKey,
  isoNow,
  publishedSigningKeys,
  retireSigningKeys,
  type SecretCipher,
  type SigningKeyRow,
} from '@alphaswarm/db';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK, type JWTPayload, SignJWT } from 'jose';

/** Subject tokens for clouds live at most this long. */
export const WORKLOAD_TOKEN_TTL = 300;
/** Longest admin access token the embedded IdP signs. */
export const ADMIN_TOKEN_MAX_TTL = 900;

export interface KeyedIssuerOptions {
  db: Database;
  cipher: SecretCipher;
  name: IssuerName;
  /** The `iss` of every token and the base of the discovery document. */
  issuerUrl: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  /** Longest lifetime of a token this issuer signs; retired keys stay published this long. */
  maxTokenTtlSeconds: number;
  now: () => Date;
}

interface LoadedKey {
  kid: string;
  key: Awaited<ReturnType<typeof importPKCS8>>;
  checkedAt: number;
}

/** How long a process trusts its cached signing key before re-reading which one is active. */
const ACTIVE_KEY_RECHECK_MS = 30_000;

/**
 * A JWT issuer whose signing keys live Fernet-encrypted in the database, carry a kid,
 * and rotate with overlap: a retired key stays in the JWKS until its last token expired.
 */
export class KeyedIssuer {
  private current: LoadedKey | null = null;

  constructor(readonly options: KeyedIssuerOptions) {}

  get issuer(): string {
    return this.options.issuerUrl;
  }

  /** Sign `claims` with the active key (created on first use). */
  async sign(claims: JWTPayload, ttlSeconds: number, typ = 'JWT'): Promise<string> {
    return this.signWith(claims, Math.min(ttlSeconds, this.options.maxTokenTtlSeconds), typ);
  }

  /**
   * For tokens only this service verifies, from the key table rather than the JWKS (refresh
   * tokens): they may outlive the publication overlap that caps `sign`.
   */
  async signPrivate(claims: JWTPayload, ttlSeconds: number): Promise<string> {
    return this.signWith(claims, ttlSeconds, 'JWT');
  }

  private async signWith(claims: JWTPayload, ttl: number, typ: string): Promise<string> {
    const key = await this.activeKey();
    const now = Math.floor(this.options.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.options.alg, kid: key.kid, typ })
      .setIssuer(this.options.issuerUrl)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + ttl)
      .setJti(claims.jti ?? randomUUID())
      .sign(key.key);
  }

  /** The active private key and its kid, for signatures that are not JWTs (audit checkpoints). */
  async signingKey(): Promise<{ kid: string; key: LoadedKey['key'] }> {
    const { kid, key } = await this.activeKey();
    return { kid, key };
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.activeKey();
    const rows = await publishedSigningKeys(this.options.db, this.options.name, isoNow(this.options.now()));
    return { keys: rows.map((r) => r.publicJwk as JWK) };
  }

  discovery(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      issuer: this.options.issuerUrl,
      jwks_uri: `${this.options.issuerUrl}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: [this.options.alg],
      subject_types_supported: ['public'],
      response_types_supported: ['id_token'],
      ...extra,
    };
  }

  /**
   * Start signing with a fresh key; the old one stays published for the overlap. `beforeSigning`
   * gets the JWKS that includes the new key before it signs anything (to publish a static copy
   * first); if it throws, nothing changes.
   */
  async rotate(beforeSigning?: (jwks: { keys: JWK[] }) => Promise<void>): Promise<string> {
    const fresh = await this.newKey();
    if (beforeSigning) {
      const published = await publishedSigningKeys(this.options.db, this.options.name, isoNow(this.options.now()));
      await beforeSigning({ keys: [...published.map((r) => r.publicJwk as JWK), fresh.publicJwk as JWK] });
    }
    const now = this.options.now();
    const publishUntil = new Date(now.getTime() + (this.options.maxTokenTtlSeconds + 60) * 1000);
    await retireSigningKeys(this.options.db, this.options.name, isoNow(now), isoNow(publishUntil));
    await insertSigningKey(this.options.db, { ...fresh, createdAt: new Date(now).toISOString() });
    this.current = null;
    return (await this.activeKey()).kid;
  }

  private async newKey(): Promise<SigningKeyRow> {
    const { privateKey, publicKey } = await generateKeyPair(this.options.alg, { extractable: true });
    const kid = `${this.options.name}-${randomUUID()}`;
    const pem = await exportPKCS8(privateKey);
    return {
      kid,
      issuer: this.options.name,
      alg: this.options.alg,
      privateKey: this.options.cipher.encrypt(pem),
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: this.options.alg, use: 'sig' },
      createdAt: new Date(this.options.now()).toISOString(),
      retiredAt: null,
      publishUntil: null,
    };
  }

  /**
   * The active key, re-read from the database every 30 s so a rotation made by another process
   * (the CLI, another replica) is picked up without a restart.
   */
  private async activeKey(): Promise<LoadedKey> {
    const now = this.options.now().getTime();
    if (this.current && now - this.current.checkedAt < ACTIVE_KEY_RECHECK_MS) return this.current;
    let row = await activeSigningKey(this.options.db, this.options.name);
    if (row && this.current?.kid === row.kid) {
      this.current = { ...this.current, checkedAt: now };
      return this.current;
    }
    if (!row) {
      row = await this.newKey();
      await insertSigningKey(this.options.db, row);
    }
    let pem: string;
    try {
      pem = this.options.cipher.decrypt(row.privateKey).toString('utf8');
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      // Sealed by a key we no longer have (an ephemeral key from an earlier run, or a lost key):
      // it can never sign again. Retire it (its public half stays published for the overlap, so
      // tokens it signed still verify) and start a fresh key.
      await this.rotate();
      return this.activeKey();
    }
    this.current = { kid: row.kid, key: await importPKCS8(pem, row.alg), checkedAt: now };
    return this.current;
  }
}

/** Checkpoint keys stay published long after they stop signing: old checkpoints must still verify. */
const AUDIT_KEY_PUBLISHED_SECONDS = 10 * 365 * 86_400;

/**
 * Our signing keys: `<public url>/workload` (subject tokens for clouds), `<public url>` (admin
 * logins) and `audit` (Ed25519, signs audit checkpoints; published in the admin issuer's JWKS).
 */
export function signingIssuer(
  name: IssuerName,
  env: { publicUrl: string; workloadIssuerUrl: string },
  db: Database,
  cipher: SecretCipher,
  now: () => Date,
): KeyedIssuer {
  if (name === 'audit') {
    return new KeyedIssuer({
      db,
      cipher,
      name,
      issuerUrl: `${env.publicUrl}/audit`,
      alg: 'EdDSA',
      maxTokenTtlSeconds: AUDIT_KEY_PUBLISHED_SECONDS,
      now,
    });
  }
  return new KeyedIssuer(
    name === 'workload'
      ? {
          db,
          cipher,
          name,
          issuerUrl: env.workloadIssuerUrl,
          alg: 'RS256',
          maxTokenTtlSeconds: WORKLOAD_TOKEN_TTL,
          now,
        }
      : { db, cipher, name, issuerUrl: env.publicUrl, alg: 'ES256', maxTokenTtlSeconds: ADMIN_TOKEN_MAX_TTL, now },
  );
}
