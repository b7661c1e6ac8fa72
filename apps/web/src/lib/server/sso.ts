import * as oidc from 'openid-client';

/*
 * Console sign-in through the company's OIDC provider: authorization code + PKCE (S256), with
 * `state` and `nonce`, all three kept in the server-side session and used once. openid-client
 * checks the ID token's `iss`, `aud`, `exp`, `nonce` and, when asked for, `auth_time` against
 * `max_age`. The console then calls the API with the IdP's access token.
 */

export interface SsoSettings {
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE alone). */
  clientSecret?: string | undefined;
  scopes: string;
  /** `<ORIGIN>/login/sso/callback`. */
  redirectUri: string;
  /** Plain-http issuers are refused in production (no TLS, no trust in its keys). */
  allowHttp: boolean;
}

/** What a sign-in or step-up in flight keeps in the session until the IdP sends the browser back. */
export interface SsoAttempt {
  state: string;
  nonce: string;
  verifier: string;
  purpose: 'login' | 'step_up';
  next: string;
  /** `max_age` sent (step-up: 0 or the challenge's); the ID token's `auth_time` is checked against it. */
  maxAge: number | null;
  acrValues: string | null;
  /** Seconds since epoch when the browser left for the IdP: a step-up must have authenticated after it. */
  startedAt: number;
}

export interface SsoTokens {
  access: string;
  refresh: string | null;
  expiresIn: number;
  idToken: string | null;
  claims: Record<string, unknown>;
}

/** A refusal the admin can act on; never carries a token. */
export class SsoError extends Error {
  override readonly name = 'SsoError';
}

/** MFA methods the API accepts for mutations (RFC 8176 values). */
export const MFA_METHODS = ['mfa', 'otp', 'hwk', 'swk'];
/** An auth_time this far before the browser left still counts (clock differences). */
const AUTH_TIME_SKEW_SECONDS = 5;

export class SsoClient {
  private config: Promise<oidc.Configuration> | null = null;

  constructor(readonly settings: SsoSettings) {
    if (!settings.allowHttp && !settings.issuer.startsWith('https://')) {
      throw new SsoError(`The OIDC issuer ${settings.issuer} must use https in production.`);
    }
  }

  /** Discovery, once; a failure is retried on the next sign-in rather than remembered. */
  configuration(): Promise<oidc.Configuration> {
    const s = this.settings;
    this.config ??= oidc
      .discovery(
        new URL(s.issuer),
        s.clientId,
        s.clientSecret ? { client_secret: s.clientSecret } : undefined,
        s.clientSecret ? oidc.ClientSecretBasic(s.clientSecret) : oidc.None(),
        s.allowHttp ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      )
      .catch((error) => {
        this.config = null;
        throw new SsoError(
          `The identity provider ${s.issuer} could not be reached (${(error as Error).message}); try again shortly.`,
        );
      });
    return this.config;
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async start(opts: {
    purpose: SsoAttempt['purpose'];
    next: string;
    maxAge?: number | null;
    acrValues?: string | null;
    now: Date;
  }): Promise<{ url: URL; attempt: SsoAttempt }> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const attempt: SsoAttempt = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      purpose: opts.purpose,
      next: opts.next,
      maxAge: opts.maxAge ?? null,
      acrValues: opts.acrValues ?? null,
      startedAt: Math.floor(opts.now.getTime() / 1000),
    };
    const params: Record<string, string> = {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: attempt.state,
      nonce: attempt.nonce,
    };
    if (attempt.maxAge !== null) params.max_age = String(attempt.maxAge);
    if (attempt.acrValues) params.acr_values = attempt.acrValues;
    return { url: oidc.buildAuthorizationUrl(config, params), attempt };
  }

  /**
   * The IdP's answer at the callback: the code exchanged with the PKCE verifier, `state` and
   * `nonce` compared, the ID token checked. A step-up must also be fresh and multi-factor.
   */
  /**
   * Redeem the IdP's answer: `answer` is the URL it came back on, or any URL carrying the same query
   * (the console passes it on from the callback to `/login/sso/finish`); the token request names
   * the registered redirect URI either way, as the IdP requires.
   */
  async finish(answer: URL, attempt: SsoAttempt | null): Promise<SsoTokens> {
    if (!attempt) throw new SsoError('No sign-in was started from this browser session; start again.');
    const callbackUrl = new URL(this.settings.redirectUri);
    callbackUrl.search = answer.search;
    if (callbackUrl.searchParams.get('state') !== attempt.state) {
      throw new SsoError('The sign-in response does not belong to this browser session (state mismatch); start again.');
    }
    const config = await this.configuration();
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
        ...(attempt.maxAge !== null ? { maxAge: attempt.maxAge } : {}),
      });
    } catch (error) {
      throw new SsoError(refusal(error));
    }
    const claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    if (attempt.purpose === 'step_up') checkStepUp(claims, attempt);
    return {
      access: tokens.access_token,
      refresh: tokens.refresh_token ?? null,
      expiresIn: tokens.expiresIn() ?? 300,
      idToken: tokens.id_token ?? null,
      claims,
    };
  }

  /** A new access token from the refresh token; keeps the original auth_time, so never a step-up. */
  async refresh(refreshToken: string): Promise<Omit<SsoTokens, 'claims' | 'idToken'>> {
    const tokens = await oidc.refreshTokenGrant(await this.configuration(), refreshToken);
    return {
      access: tokens.access_token,
      refresh: tokens.refresh_token ?? refreshToken,
      expiresIn: tokens.expiresIn() ?? 300,
    };
  }

  /** Best effort at sign-out: the IdP forgets the refresh token when it supports revocation. */
  async revoke(refreshToken: string): Promise<void> {
    const config = await this.configuration();
    if (!config.serverMetadata().revocation_endpoint) return;
    await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
  }
}

function refusal(error: unknown): string {
  const e = error as { code?: string; error?: string; error_description?: string; message?: string };
  if (e.error) {
    return `The identity provider refused the sign-in (${e.error}${e.error_description ? `: ${e.error_description}` : ''}); start again.`;
  }
  const cause = (error as { cause?: { message?: string; cause?: { claim?: unknown } } }).cause;
  const message = cause?.message ?? e.message ?? '';
  // The library names the claim it compared (its message text is no contract).
  const claim = (cause?.cause ?? (error as { cause?: { claim?: unknown } }).cause)?.claim;
  if (claim === 'nonce') return 'The ID token was not issued for this sign-in (nonce mismatch); start again.';
  return `The sign-in could not be completed (${message.slice(0, 200)}); start again.`;
}

/** A step-up counts only when the IdP authenticated the admin again, with a second factor. */
export function checkStepUp(claims: Record<string, unknown>, attempt: Pick<SsoAttempt, 'startedAt' | 'acrValues'>) {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : null;
  if (authTime === null || authTime < attempt.startedAt - AUTH_TIME_SKEW_SECONDS) {
    throw new SsoError(
      'The identity provider did not sign you in again: it must honour max_age and send auth_time in the ID token.',
    );
  }
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [];
  if (!amr.some((m) => MFA_METHODS.includes(m))) {
    throw new SsoError(
      `Your identity provider signed you in without multi-factor authentication (amr: ${amr.join(', ') || 'none'}). ` +
        `Changes need an "amr" claim containing one of ${MFA_METHODS.join(', ')} in both the ID and access tokens: ` +
        'enrol a second factor with your IdP, or ask its administrator to require MFA for this application.',
    );
  }
  if (attempt.acrValues) {
    const wanted = attempt.acrValues.split(' ');
    if (typeof claims.acr !== 'string' || !wanted.includes(claims.acr)) {
      throw new SsoError(
        `Your identity provider signed you in at level "${String(claims.acr ?? 'none')}"; changes need acr ${wanted.join(' or ')}.`,
      );
    }
  }
}
