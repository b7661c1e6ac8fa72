import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '@alphaswarm/api';
import type { TokenResult } from '@alphaswarm/contracts';
import { type AdminUserRow, allSigningKeys, isoNow, type SigningKeyRow } from '@alphaswarm/db';
import {
  createLocalJWKSet,
  decodeJwt,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { KeyedIssuer } from '../../issuers/keyed-issuer';
import type { Runtime } from '../../runtime';
import { ADMIN_AUDIENCE } from '../../runtime';

/**
 * Three token kinds, told apart by audience so none can stand in for another: the access token
 * (the only one any procedure accepts), the first-factor token after a password, and the
 * refresh token that only `auth.refresh` and `auth.stepUp` read.
 */
export const MFA_AUDIENCE = `${ADMIN_AUDIENCE}:mfa`;
export const REFRESH_AUDIENCE = `${ADMIN_AUDIENCE}:refresh`;
export const MFA_TOKEN_TTL = 300;
export const ACCESS_TOKEN_TTL = 600;
/** A session lasts this long after its last interactive authentication, refreshes or not. */
export const REFRESH_TOKEN_TTL = 12 * 3600;

export const AMR_PASSWORD = ['pwd'];
export const AMR_MFA = ['pwd', 'otp', 'mfa'];
/** RFC 8176 for a passkey: `hwk` device-bound key or `swk` synced one, `user` presence, `mfa` (verified user). */
export const PASSKEY_AMR = ['hwk', 'swk', 'user'] as const;
/** The `acr` of a phishing-resistant authentication (a passkey), as ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR asks. */
export const ACR_PHR = 'phr';

/** How the session's last interactive authentication was made: it rides on every token of the session. */
export interface AuthMethod {
  amr: string[];
  acr?: string;
}

export const TOTP_METHOD: AuthMethod = { amr: AMR_MFA };

/** The method a refresh token says its session was last authenticated with. */
export function methodOf(claims: JWTPayload): AuthMethod {
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : AMR_MFA;
  return typeof claims.acr === 'string' ? { amr, acr: claims.acr } : { amr };
}

/** What a step-up or refresh hands back (the sign-in contract's TokenResult). */
export type TokenSet = TokenResult;

export interface VerifiedToken {
  sub: string;
  /** Session version the token was minted under (see `sessionVersion`). */
  sv: string;
  authTime: number | null;
  jti: string;
  /** The sign-in (refresh-token family) an access or refresh token belongs to. */
  sid: string | null;
  /** Expiry, seconds since epoch. */
  exp: number;
  claims: JWTPayload;
}

/** What `tokenSet` minted, with what the database must record about the refresh token. */
export interface MintedTokens {
  set: TokenSet;
  refresh: { jti: string; sessionId: string; expiresAt: string };
}

/**
 * A fingerprint of the credentials a session was opened with. Tokens carry it; a new TOTP secret
 * (reset-mfa) or password changes it, which ends every refresh token minted before. It hashes the
 * plaintext secret because the ciphertext changes when the Fernet key rotates.
 */
export function sessionVersion(user: AdminUserRow, totpSecret: string): string {
  return createHash('sha256')
    .update(`alphaswarm-admin/session\0${user.username}\0${user.passwordHash}\0${totpSecret}`)
    .digest('base64url')
    .slice(0, 22);
}

function invalid(message: string): AppError {
  return new AppError('invalid_token', message, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
    },
  });
}

/** Signs and reads the embedded IdP's tokens with the admin issuer's keys. */
export class IdpTokens {
  constructor(
    private readonly rt: Runtime,
    private readonly issuer: KeyedIssuer,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.rt.now().getTime() / 1000);
  }

  /** Single use: its `jti` is spent by the step-up it opens. */
  mfaToken(user: AdminUserRow, sv: string): Promise<string> {
    return this.issuer.sign(
      { sub: user.username, aud: MFA_AUDIENCE, amr: AMR_PASSWORD, sv, jti: randomUUID() },
      MFA_TOKEN_TTL,
    );
  }

  /**
   * Access + refresh tokens for sign-in `sessionId` (a new one when null) whose last interactive
   * authentication was `authTime`. The caller records the refresh token before handing it out.
   */
  async tokenSet(
    user: AdminUserRow,
    sv: string,
    authTime: number,
    sessionId: string | null,
    method: AuthMethod = TOTP_METHOD,
  ): Promise<MintedTokens> {
    const scope = user.scopes.split(' ').filter(Boolean).join(' ');
    const now = this.nowSeconds();
    const sessionLeft = authTime + REFRESH_TOKEN_TTL - now;
    if (sessionLeft <= 0) throw invalid('The session has ended; sign in again.');
    const sid = sessionId ?? `ses_${randomUUID().replaceAll('-', '')}`;
    const jti = randomUUID();
    const accessTtl = Math.min(ACCESS_TOKEN_TTL, sessionLeft);
    const access = await this.issuer.sign(
      { sub: user.username, aud: ADMIN_AUDIENCE, scope, ...method, auth_time: authTime, sv, sid },
      accessTtl,
    );
    const refresh = await this.signRefresh(
      { sub: user.username, aud: REFRESH_AUDIENCE, ...method, auth_time: authTime, sv, sid, jti },
      sessionLeft,
    );
    return {
      set: { access_token: access, refresh_token: refresh, expires_in: accessTtl, token_type: 'Bearer', scope },
      refresh: { jti, sessionId: sid, expiresAt: isoNow(new Date((now + sessionLeft) * 1000)) },
    };
  }

  /**
   * Refresh tokens outlive the admin issuer's longest access token, which is what its key overlap
   * is sized for, so they are signed here with the same active key and read back by `verifyRefresh`
   * with every key that was still signing within the refresh lifetime.
   */
  private async signRefresh(claims: JWTPayload, ttl: number): Promise<string> {
    return this.issuer.signPrivate(claims, ttl);
  }

  private async verify(token: string, audience: string, jwks: JSONWebKeySet, what: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: this.issuer.issuer,
        audience,
        algorithms: [this.issuer.options.alg],
        requiredClaims: ['sub', 'exp', 'sv', 'jti'],
        currentDate: this.rt.now(),
        clockTolerance: 5,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw invalid(`The ${what} has expired.`);
      if (error instanceof joseErrors.JWKSNoMatchingKey)
        throw invalid(`The ${what} was signed by an unknown or retired key.`);
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        throw invalid(`The ${what} failed the "${error.claim}" check.`);
      throw invalid(`The ${what} is not valid.`);
    }
    return {
      sub: String(payload.sub),
      sv: String(payload.sv),
      authTime: typeof payload.auth_time === 'number' ? payload.auth_time : null,
      jti: String(payload.jti),
      sid: typeof payload.sid === 'string' ? payload.sid : null,
      exp: Number(payload.exp),
      claims: payload,
    };
  }

  async verifyMfa(token: string): Promise<VerifiedToken> {
    return this.verify(token, MFA_AUDIENCE, await this.issuer.jwks(), 'mfa_token');
  }

  async verifyAccess(token: string): Promise<VerifiedToken> {
    return this.verify(token, ADMIN_AUDIENCE, await this.issuer.jwks(), 'access token');
  }

  async verifyRefresh(token: string): Promise<VerifiedToken> {
    const verified = await this.verify(token, REFRESH_AUDIENCE, await this.refreshKeys(), 'refresh_token');
    if (verified.authTime === null || verified.sid === null) throw invalid('The refresh_token is not valid.');
    return verified;
  }

  /** Keys that may have signed a still-live refresh token: active, or retired less than its lifetime ago. */
  private async refreshKeys(): Promise<JSONWebKeySet> {
    const oldest = this.rt.now().getTime() - (REFRESH_TOKEN_TTL + 60) * 1000;
    const rows = (await allSigningKeys(this.rt.store.db)).filter(
      (r: SigningKeyRow) => r.issuer === 'admin' && (r.retiredAt === null || Date.parse(r.retiredAt) > oldest),
    );
    return { keys: rows.map((r) => r.publicJwk as JWK) };
  }

  /** Which of our token kinds a bearer token claims to be, without trusting it yet. */
  audienceOf(token: string): string | null {
    try {
      const { aud, iss } = decodeJwt(token);
      if (iss !== this.issuer.issuer) return null;
      return typeof aud === 'string' ? aud : null;
    } catch {
      return null;
    }
  }
}
