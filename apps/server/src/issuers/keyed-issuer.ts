import { randomUUID } from 'node:crypto';
import {
  activeSigningKey,
  type Db,
  type IssuerName,
  insertSigningKey,
  isoNow,
  publishedSigningKeys,
  retireSigningKeys,
  type SecretCipher,
} from '@alphaswarm/db';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface KeyedIssuerOptions {
  db: Db;
  cipher: SecretCipher;
  name: IssuerName;
  /** The `iss` of every token and the base of the discovery document. */
  issuerUrl: string;
  alg: 'RS256' | 'ES256';
  /** Longest lifetime of a token this issuer signs; retired keys stay published this long. */
  maxTokenTtlSeconds: number;
  now: () => Date;
}

interface LoadedKey {
  kid: string;
  key: Awaited<ReturnType<typeof importPKCS8>>;
}

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
    const ttl = Math.min(ttlSeconds, this.options.maxTokenTtlSeconds);
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

  /** Start signing with a fresh key; the old one stays published for the overlap. */
  async rotate(): Promise<string> {
    const now = this.options.now();
    const publishUntil = new Date(now.getTime() + (this.options.maxTokenTtlSeconds + 60) * 1000);
    await retireSigningKeys(this.options.db, this.options.name, isoNow(now), isoNow(publishUntil));
    this.current = null;
    return (await this.activeKey()).kid;
  }

  private async activeKey(): Promise<LoadedKey> {
    if (this.current) return this.current;
    let row = await activeSigningKey(this.options.db, this.options.name);
    if (!row) {
      const { privateKey, publicKey } = await generateKeyPair(this.options.alg, { extractable: true });
      const kid = `${this.options.name}-${randomUUID()}`;
      const pem = await exportPKCS8(privateKey);
      const jwk = { ...(await exportJWK(publicKey)), kid, alg: this.options.alg, use: 'sig' };
      row = {
        kid,
        issuer: this.options.name,
        alg: this.options.alg,
        privateKey: this.options.cipher.encrypt(pem),
        publicJwk: jwk,
        createdAt: new Date(this.options.now()).toISOString(),
        retiredAt: null,
        publishUntil: null,
      };
      await insertSigningKey(this.options.db, row);
    }
    const pem = this.options.cipher.decrypt(row.privateKey).toString('utf8');
    this.current = { kid: row.kid, key: await importPKCS8(pem, row.alg) };
    return this.current;
  }
}
