import {
  type AdminUserRow,
  type AuditOutcome,
  type AuditPhase,
  appendAudit,
  clearAdminLoginFailures,
  consumeAdminTotpStep,
  getAdminUser,
  isoNow,
  newRunId,
  recordAdminLoginFailure,
} from '@alphaswarm/db';
import { AppError } from '../../errors';
import type { KeyedIssuer } from '../../issuers/keyed-issuer';
import type { Runtime } from '../../runtime';
import { dummyPasswordHash, verifyPassword } from './password';
import { PhantomLockout, SlidingWindow } from './rate-limit';
import type { LoginInput, LoginResult, RefreshInput, StepUpInput } from './schemas';
import {
  IdpTokens,
  MFA_TOKEN_TTL,
  REFRESH_AUDIENCE,
  sessionVersion,
  type TokenSet,
  type VerifiedToken,
} from './tokens';
import { checkTotp } from './totp';

/** Consecutive failures (password or code) that lock an account, and for how long. */
export const LOCKOUT_ATTEMPTS = 5;
export const LOCKOUT_SECONDS = 15 * 60;
/** Failures one client address may make before it has to wait. */
export const IP_FAILURE_LIMIT = 20;
export const IP_WINDOW_SECONDS = 5 * 60;

export const BAD_CREDENTIALS = 'Invalid username or password.';

export interface IdpRequest {
  clientIp: string | null;
  /** The raw Authorization header, read by step-up when no token is in the body. */
  authorization?: string | undefined;
}

type AuthAction = 'auth.login' | 'auth.step_up' | 'auth.refresh' | 'auth.lockout';

function unauthorized(message: string): AppError {
  return new AppError('invalid_token', message, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
    },
  });
}

function rateLimited(message: string, seconds: number): AppError {
  return new AppError('rate_limited', message, { headers: { 'retry-after': String(seconds) } });
}

function minutes(seconds: number): string {
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/**
 * The embedded identity provider: password → first-factor token, TOTP → access + refresh tokens,
 * refresh keeping `auth_time`. Every attempt is audited (never the password or the code); guessing
 * is slowed per account (in the database) and per client address (in memory).
 */
export class EmbeddedIdp {
  readonly tokens: IdpTokens;
  private readonly perIp = new SlidingWindow(IP_FAILURE_LIMIT, IP_WINDOW_SECONDS * 1000);
  private readonly phantom = new PhantomLockout(LOCKOUT_ATTEMPTS, LOCKOUT_SECONDS * 1000);

  constructor(
    private readonly rt: Runtime,
    readonly issuer: KeyedIssuer,
  ) {
    this.tokens = new IdpTokens(rt, issuer);
  }

  async login(input: LoginInput, req: IdpRequest): Promise<LoginResult> {
    const now = this.rt.now();
    await this.assertAddressAllowed('auth.login', req, now);
    const user = await getAdminUser(this.rt.store.db, input.username);
    const actor = user ? user.username : 'anonymous';
    const locked = user ? this.lockedFor(user, now) : this.phantom.lockedFor(input.username, now);
    if (locked > 0) {
      await this.audit('auth.login', 'denied', 'denied', actor, req, { reason: 'locked', retry_after: locked });
      throw this.lockedError(locked);
    }
    // Unknown users pay for the same scrypt run, so timing does not say who exists.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!user || !ok) {
      this.perIp.fail(req.clientIp ?? 'unknown', now);
      if (user) await this.countFailure(user, 'password', req, now);
      else this.phantom.fail(input.username, now);
      await this.audit('auth.login', 'event', 'failure', actor, req, {
        reason: user ? 'wrong_password' : 'unknown_user',
      });
      throw unauthorized(BAD_CREDENTIALS);
    }
    if (user.disabledAt) {
      await this.audit('auth.login', 'event', 'failure', actor, req, { reason: 'disabled' });
      throw unauthorized('This admin account is disabled; another admin can re-enable it.');
    }
    const sv = sessionVersion(user, this.totpSecret(user));
    await this.auditOrRefuse('auth.login', actor, req, { factor: 'pwd' });
    return { mfa_token: await this.tokens.mfaToken(user, sv), expires_in: MFA_TOKEN_TTL };
  }

  async stepUp(input: StepUpInput, req: IdpRequest): Promise<TokenSet> {
    const now = this.rt.now();
    await this.assertAddressAllowed('auth.step_up', req, now);
    let who: VerifiedToken & { via: string };
    try {
      who = await this.identify(input, req);
    } catch (error) {
      await this.audit('auth.step_up', 'event', 'failure', 'anonymous', req, { reason: 'bad_token' });
      throw error;
    }
    const user = await this.sessionUser('auth.step_up', who, req);
    const locked = this.lockedFor(user, now);
    if (locked > 0) {
      await this.audit('auth.step_up', 'denied', 'denied', user.username, req, {
        reason: 'locked',
        retry_after: locked,
        via: who.via,
      });
      throw this.lockedError(locked);
    }
    const check = await checkTotp(this.totpSecret(user), input.code, now, user.lastTotpStep);
    // Two requests with the same code can both pass the check; only one claims the step.
    const claimed = check.ok && (await consumeAdminTotpStep(this.rt.store.db, user.username, check.step, isoNow(now)));
    if (!claimed) {
      const reason = check.ok || check.reason === 'replayed' ? 'replayed' : 'wrong_code';
      this.perIp.fail(req.clientIp ?? 'unknown', now);
      await this.countFailure(user, 'otp', req, now);
      await this.audit('auth.step_up', 'event', 'failure', user.username, req, { reason, via: who.via });
      throw unauthorized(
        reason === 'replayed'
          ? 'That code was already used; wait for the next code from your authenticator app.'
          : 'The code is not valid; check your authenticator app and the time on your device.',
      );
    }
    await clearAdminLoginFailures(this.rt.store.db, user.username, isoNow(now));
    await this.auditOrRefuse('auth.step_up', user.username, req, { via: who.via, amr: ['pwd', 'otp', 'mfa'] });
    return this.tokens.tokenSet(user, who.sv, Math.floor(now.getTime() / 1000));
  }

  /** New tokens for the same session: `auth_time` is kept, so freshness still runs out. */
  async refresh(input: RefreshInput, req: IdpRequest): Promise<TokenSet> {
    let who: VerifiedToken;
    try {
      who = await this.tokens.verifyRefresh(input.refresh_token);
    } catch (error) {
      await this.audit('auth.refresh', 'event', 'failure', 'anonymous', req, { reason: 'bad_token' });
      throw error;
    }
    const user = await this.sessionUser('auth.refresh', who, req);
    let tokens: TokenSet;
    try {
      tokens = await this.tokens.tokenSet(user, who.sv, who.authTime ?? 0);
    } catch (error) {
      await this.audit('auth.refresh', 'event', 'failure', user.username, req, { reason: 'session_ended' });
      throw error;
    }
    await this.auditOrRefuse('auth.refresh', user.username, req, { auth_time: who.authTime });
    return tokens;
  }

  /** The caller of a step-up: after login (mfa_token), or an existing session (refresh or access token). */
  private async identify(input: StepUpInput, req: IdpRequest): Promise<VerifiedToken & { via: string }> {
    if (input.mfa_token) return { ...(await this.tokens.verifyMfa(input.mfa_token)), via: 'mfa_token' };
    if (input.refresh_token) return { ...(await this.tokens.verifyRefresh(input.refresh_token)), via: 'refresh_token' };
    const bearer = req.authorization ? /^Bearer\s+(\S+)$/i.exec(req.authorization)?.[1] : undefined;
    if (!bearer) {
      throw new AppError(
        'invalid_request',
        'Step-up needs mfa_token (from login), refresh_token, or an Authorization: Bearer token from this server.',
      );
    }
    const audience = this.tokens.audienceOf(bearer);
    if (audience === REFRESH_AUDIENCE) return { ...(await this.tokens.verifyRefresh(bearer)), via: 'refresh_token' };
    if (audience === null) {
      throw unauthorized(
        "Step-up here needs a token from this server's sign-in; sign in with username and password first.",
      );
    }
    return { ...(await this.tokens.verifyAccess(bearer)), via: 'access_token' };
  }

  /** The user a token speaks for, if still allowed: exists, enabled, and the same credentials. */
  private async sessionUser(action: AuthAction, who: VerifiedToken, req: IdpRequest): Promise<AdminUserRow> {
    const user = await getAdminUser(this.rt.store.db, who.sub);
    let reason: string | null = null;
    if (!user) reason = 'unknown_user';
    else if (user.disabledAt) reason = 'disabled';
    else if (sessionVersion(user, this.totpSecret(user)) !== who.sv) reason = 'credentials_changed';
    if (!user || reason) {
      await this.audit(action, 'event', 'failure', user?.username ?? 'anonymous', req, { reason });
      throw unauthorized(
        reason === 'disabled'
          ? 'This admin account is disabled; another admin can re-enable it.'
          : 'This session has ended (the account or its credentials changed); sign in again.',
      );
    }
    return user;
  }

  private totpSecret(user: AdminUserRow): string {
    try {
      return this.rt.keyring.decrypt(user.totpSecret).toString('utf8');
    } catch {
      throw new AppError(
        'secret_unreadable',
        "This account's TOTP secret cannot be decrypted with the configured keys; an operator can run `alphaswarm-admin reset-mfa`.",
      );
    }
  }

  private lockedFor(user: AdminUserRow, now: Date): number {
    if (!user.lockedUntil) return 0;
    const left = Date.parse(user.lockedUntil) - now.getTime();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  private lockedError(seconds: number): AppError {
    return rateLimited(`Too many failed sign-in attempts for this account; try again in ${minutes(seconds)}.`, seconds);
  }

  private async countFailure(
    user: AdminUserRow,
    factor: 'password' | 'otp',
    req: IdpRequest,
    now: Date,
  ): Promise<void> {
    const lockUntil = isoNow(new Date(now.getTime() + LOCKOUT_SECONDS * 1000));
    const result = await recordAdminLoginFailure(this.rt.store.db, user.username, {
      maxAttempts: LOCKOUT_ATTEMPTS,
      lockUntil,
      now: isoNow(now),
    });
    if (result?.locked) {
      this.rt.logger.warn(
        { username: user.username, locked_until: lockUntil },
        'admin account locked after repeated failures',
      );
      await this.audit('auth.lockout', 'event', 'denied', user.username, req, {
        attempts: LOCKOUT_ATTEMPTS,
        last_factor: factor,
        locked_until: lockUntil,
      });
    }
  }

  private async assertAddressAllowed(action: AuthAction, req: IdpRequest, now: Date): Promise<void> {
    const wait = this.perIp.blockedFor(req.clientIp ?? 'unknown', now);
    if (wait > 0) {
      await this.audit(action, 'denied', 'denied', 'anonymous', req, {
        reason: 'address_rate_limited',
        retry_after: wait,
      });
      throw rateLimited(`Too many failed sign-in attempts from this address; try again in ${minutes(wait)}.`, wait);
    }
  }

  /** Failures and denials: a lost audit row is logged, the caller still gets the real answer. */
  private async audit(
    action: AuthAction,
    phase: AuditPhase,
    outcome: AuditOutcome,
    actor: string,
    req: IdpRequest,
    detail: Record<string, unknown>,
  ): Promise<void> {
    try {
      await appendAudit(
        this.rt.store.db,
        { runId: newRunId(), actor, clientIp: req.clientIp, action, phase, outcome, detail },
        isoNow(this.rt.now()),
      );
    } catch (error) {
      this.rt.logger.error(
        { err: { message: (error as Error).message }, action },
        'audit write for an auth event failed',
      );
    }
  }

  /** Successes: no token leaves without its audit row (fail closed). */
  private async auditOrRefuse(
    action: AuthAction,
    actor: string,
    req: IdpRequest,
    detail: Record<string, unknown>,
  ): Promise<void> {
    try {
      await appendAudit(
        this.rt.store.db,
        { runId: newRunId(), actor, clientIp: req.clientIp, action, phase: 'event', outcome: 'success', detail },
        isoNow(this.rt.now()),
      );
    } catch (error) {
      this.rt.logger.error(
        { err: { message: (error as Error).message }, action },
        'audit write failed; sign-in refused',
      );
      throw new AppError(
        'audit_unavailable',
        'The audit log could not be written, so no token was issued. Check the database, then retry.',
      );
    }
  }
}

const instances = new WeakMap<Runtime, EmbeddedIdp>();

/** The runtime's embedded IdP (one per runtime, so rate-limit state is shared by tRPC and HTTP). */
export function embeddedIdp(rt: Runtime): EmbeddedIdp {
  if (!rt.adminIssuer) {
    throw new AppError(
      'not_found',
      'The embedded identity provider is off (ALPHASWARM_ADMIN_EMBEDDED_IDP); sign in through the configured OIDC issuer.',
    );
  }
  let idp = instances.get(rt);
  if (!idp) {
    idp = new EmbeddedIdp(rt, rt.adminIssuer);
    instances.set(rt, idp);
  }
  return idp;
}
