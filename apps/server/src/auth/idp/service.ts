import {
  AppError,
  type AuditEvent,
  auditEvent,
  auditedEvent,
  type IdentityProvider,
  type IdpRequest,
  MFA_METHODS,
  type Principal,
} from '@alphaswarm/api';
import type {
  AccountResult,
  AuditAction,
  ChangePasswordInput,
  LoginInput,
  LoginResult,
  LogoutInput,
  LogoutResult,
  Passkey,
  PasskeyAuthInput,
  PasskeyOptionsInput,
  PasskeyOptionsResult,
  PasskeyRegisterInput,
  PasskeyRemoveInput,
  RecoveryCodesResult,
  RefreshInput,
  StepUpInput,
} from '@alphaswarm/contracts';
import {
  type AdminUserRow,
  addRefreshToken,
  addressBlockedFor,
  claimRecoveryCode,
  clearAdminLoginFailures,
  consumeAdminTotpStep,
  consumeTokenId,
  deletePasskey,
  type FailureResult,
  failAdminAttempt,
  failUnknownNameAttempt,
  getAdminUser,
  getPasskey,
  insertChallenge,
  insertPasskey,
  isoNow,
  listPasskeys,
  type PasskeyRow,
  pruneChallenges,
  pruneIdpTokens,
  pruneSignInLimits,
  type Reservation,
  recordPasskeyUse,
  recoveryCodesLeft,
  refreshSessionLive,
  refreshTokenState,
  refundAddressAttempt,
  refundAdminAttempt,
  refundUnknownNameAttempt,
  replaceRecoveryCodes,
  reserveAddressAttempt,
  reserveAdminAttempt,
  reserveUnknownNameAttempt,
  revokeRefreshSession,
  rotateRefreshToken,
  startRefreshSession,
  takeChallenge,
  tokenIdUsed,
} from '@alphaswarm/db';
import type { KeyedIssuer } from '../../issuers/keyed-issuer';
import type { Runtime } from '../../runtime';
import { HashGate } from './hash-gate';
import { dummyPasswordHash, verifyPassword } from './password';
import { newRecoveryCode, RECOVERY_CODE_COUNT, recoveryCodeHash } from './recovery';
import {
  ACR_PHR,
  type AuthMethod,
  IdpTokens,
  MFA_TOKEN_TTL,
  type MintedTokens,
  methodOf,
  REFRESH_AUDIENCE,
  sessionVersion,
  TOTP_METHOD,
  type TokenSet,
  type VerifiedToken,
} from './tokens';
import { checkTotp } from './totp';
import { changeAdminPassword } from './users';
import {
  amrOf,
  authenticationOptions,
  CHALLENGE_TTL,
  checkAssertion,
  checkRegistration,
  newChallengeId,
  passkeysUnavailable,
  registrationOptions,
  type WebAuthnSettings,
} from './webauthn';

/** Consecutive failures (password or code) that lock an account, and for how long. */
export const LOCKOUT_ATTEMPTS = 5;
export const LOCKOUT_SECONDS = 15 * 60;
/** Failures one client address may make per window before it has to wait for the next. */
export const IP_FAILURE_LIMIT = 20;
export const IP_WINDOW_SECONDS = 5 * 60;

const LOCKOUT = { maxAttempts: LOCKOUT_ATTEMPTS, lockSeconds: LOCKOUT_SECONDS };
const PER_ADDRESS = { limit: IP_FAILURE_LIMIT, windowSeconds: IP_WINDOW_SECONDS };
/** Expired limit rows and token state are swept at most this often by each process. */
const PRUNE_EVERY_MS = 60_000;

export const BAD_CREDENTIALS = 'Invalid username or password.';

export type { IdpRequest };

type AuthAction = Extract<AuditAction, `auth.${string}`>;

/** `field` when the code itself was refused: the session stands, only the code was wrong. */
function unauthorized(message: string, field?: 'code' | 'recovery_code'): AppError {
  return new AppError('invalid_token', message, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
    },
    ...(field ? { field } : {}),
  });
}

function rateLimited(message: string, seconds: number): AppError {
  return new AppError('rate_limited', message, { headers: { 'retry-after': String(seconds) } });
}

function minutes(seconds: number): string {
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

function addressLimited(seconds: number): AppError {
  return rateLimited(`Too many failed sign-in attempts from this address; try again in ${minutes(seconds)}.`, seconds);
}

function accountLimited(seconds: number): AppError {
  return rateLimited(`Too many failed sign-in attempts for this account; try again in ${minutes(seconds)}.`, seconds);
}

const SESSION_ENDED = 'This session has ended (signed out, or its refresh token was used twice); sign in again.';

/** The account an attempt is charged to: a real row, or the same rule for a name with none. */
interface Charge {
  fail(now: Date): Promise<FailureResult>;
  refund(now: Date): Promise<void>;
}

/** What one attempt reserved, so it can be counted or given back exactly once. */
class Attempt {
  private settled = false;

  constructor(
    private readonly account: Charge,
    private readonly refundAddress: () => Promise<void>,
  ) {}

  /** A wrong password or code: both reservations stay counted; the account may lock. */
  async fail(now: Date): Promise<FailureResult> {
    if (this.settled) return { locked: false };
    this.settled = true;
    return this.account.fail(now);
  }

  /** Right, or never checked: both reservations are given back. */
  async refund(now: Date): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.refundAddress();
    await this.account.refund(now);
  }
}

/**
 * The embedded identity provider: password → single-use first-factor token, TOTP → access +
 * rotating refresh tokens, refresh keeping `auth_time`, sign-out ending the refresh family.
 * Every attempt is reserved against the per-account and per-address limits in the database
 * before its password hash or code check runs; hashes wait at a bounded gate. Failures are
 * audited through the same per-address throttle as denied API calls; successes always are.
 */
export class EmbeddedIdp implements IdentityProvider {
  readonly tokens: IdpTokens;
  readonly hashes: HashGate;
  private lastPrune = 0;

  constructor(
    private readonly rt: Runtime,
    readonly issuer: KeyedIssuer,
    hashes = new HashGate(),
  ) {
    this.tokens = new IdpTokens(rt, issuer);
    this.hashes = hashes;
  }

  private get db() {
    return this.rt.store.db;
  }

  async login(input: LoginInput, req: IdpRequest): Promise<LoginResult> {
    const now = this.rt.now();
    await this.prune(now);
    const address = req.clientIp ?? 'unknown';
    const admission = this.hashes.admit(address);
    if (!admission.ok) {
      await this.audit('auth.login', 'denied', 'denied', 'anonymous', req, { reason: admission.reason });
      throw rateLimited(
        admission.reason === 'address_busy'
          ? 'Sign-in attempts from this address are already in progress; retry in a second.'
          : 'The server is busy checking other sign-ins; retry in a second.',
        1,
      );
    }
    const ticket = admission.ticket;
    let attempt: Attempt;
    let user: AdminUserRow | undefined;
    try {
      user = await getAdminUser(this.db, input.username);
      attempt = await this.reserve(
        'auth.login',
        address,
        input.username,
        user,
        user?.username ?? 'anonymous',
        req,
        now,
      );
    } catch (error) {
      ticket.cancel();
      throw error;
    }
    const actor = user ? user.username : 'anonymous';
    let ok: boolean;
    try {
      // Unknown users pay for the same scrypt run, so timing does not say who exists.
      const stored = user?.passwordHash ?? (await dummyPasswordHash(this.rt.env.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N));
      ok = await ticket.run(() => verifyPassword(input.password, stored));
    } catch (error) {
      ticket.cancel();
      await attempt.refund(now);
      throw error;
    }
    if (!user || !ok) {
      await this.charge(attempt, user, 'password', req, now);
      await this.audit('auth.login', 'event', 'failure', actor, req, {
        reason: user ? 'wrong_password' : 'unknown_user',
      });
      throw unauthorized(BAD_CREDENTIALS);
    }
    await attempt.refund(now);
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
    const address = req.clientIp ?? 'unknown';
    await this.assertAddressAllowed('auth.step_up', req, now);
    let who: VerifiedToken & { via: 'mfa_token' | 'refresh_token' | 'access_token' };
    try {
      who = await this.identify(input, req);
    } catch (error) {
      await this.audit('auth.step_up', 'event', 'failure', 'anonymous', req, { reason: 'bad_token' });
      throw error;
    }
    const user = await this.sessionUser('auth.step_up', who, req);
    // A token that can no longer open anything is refused before it costs a code attempt.
    await this.assertTokenUsable('auth.step_up', who, user, req, now);
    const attempt = await this.reserve('auth.step_up', address, user.username, user, user.username, req, now, {
      via: who.via,
    });
    const recovery = input.recovery_code !== undefined;
    let claimed: boolean;
    let reason: 'replayed' | 'wrong_code' | 'wrong_recovery_code';
    if (input.recovery_code !== undefined) {
      // Single use: the conditional update spends the code for exactly one caller.
      const hash = recoveryCodeHash(user.username, input.recovery_code);
      claimed = await claimRecoveryCode(this.db, user.username, hash, isoNow(now));
      reason = 'wrong_recovery_code';
    } else {
      const check = await checkTotp(this.totpSecret(user), input.code ?? '', now, user.lastTotpStep);
      // Two requests with the same code can both pass the check; only one claims the step.
      claimed = check.ok && (await consumeAdminTotpStep(this.db, user.username, check.step, isoNow(now)));
      reason = check.ok || check.reason === 'replayed' ? 'replayed' : 'wrong_code';
    }
    if (!claimed) {
      await this.charge(attempt, user, 'otp', req, now);
      await this.audit('auth.step_up', 'event', 'failure', user.username, req, { reason, via: who.via });
      throw unauthorized(
        reason === 'replayed'
          ? 'That code was already used; wait for the next code from your authenticator app.'
          : reason === 'wrong_recovery_code'
            ? 'That recovery code is not valid or was already used; each code works once.'
            : 'The code is not valid; check your authenticator app and the time on your device.',
        recovery ? 'recovery_code' : 'code',
      );
    }
    await attempt.refund(now);
    return this.complete(who, user, TOTP_METHOD, req, now, {
      method: recovery ? 'recovery_code' : 'totp',
      ...(recovery ? { recovery_codes_left: await recoveryCodesLeft(this.db, user.username) } : {}),
    });
  }

  /** A step-up passed: new tokens in the caller's session (a new one after a password), recorded and audited. */
  private async complete(
    who: VerifiedToken & { via: 'mfa_token' | 'refresh_token' | 'access_token' },
    user: AdminUserRow,
    method: AuthMethod,
    req: IdpRequest,
    now: Date,
    detail: Record<string, unknown>,
  ): Promise<TokenSet> {
    const authTime = Math.floor(now.getTime() / 1000);
    const minted = await this.tokens.tokenSet(user, who.sv, authTime, who.via === 'mfa_token' ? null : who.sid, method);
    await this.recordTokens('auth.step_up', who, user, minted, req, now);
    await clearAdminLoginFailures(this.db, user.username, isoNow(now));
    await this.auditOrRefuse('auth.step_up', user.username, req, {
      via: who.via,
      amr: method.amr,
      ...(method.acr ? { acr: method.acr } : {}),
      session: minted.refresh.sessionId,
      ...detail,
    });
    return minted.set;
  }

  /**
   * New tokens for the same session: `auth_time` is kept, so freshness still runs out. The
   * presented refresh token is spent; presenting it again ends the whole session.
   */
  async refresh(input: RefreshInput, req: IdpRequest): Promise<TokenSet> {
    const now = this.rt.now();
    // A refresh token is a credential too: each one presented takes an attempt from the address's
    // budget before it is checked (so a concurrent flood cannot overrun it), given back when it is good.
    const address = req.clientIp ?? 'unknown';
    const reserved = await reserveAddressAttempt(this.db, address, PER_ADDRESS, now);
    if (!reserved.ok) {
      await this.audit('auth.refresh', 'denied', 'denied', 'anonymous', req, {
        reason: 'address_rate_limited',
        retry_after: reserved.retryAfterSeconds,
      });
      throw addressLimited(reserved.retryAfterSeconds);
    }
    let who: VerifiedToken;
    try {
      who = await this.tokens.verifyRefresh(input.refresh_token);
    } catch (error) {
      await this.audit('auth.refresh', 'event', 'failure', 'anonymous', req, { reason: 'bad_token' });
      throw error;
    }
    await refundAddressAttempt(this.db, address, reserved.windowStart ?? '');
    const user = await this.sessionUser('auth.refresh', who, req);
    let minted: MintedTokens;
    try {
      minted = await this.tokens.tokenSet(user, who.sv, who.authTime ?? 0, who.sid, methodOf(who.claims));
    } catch (error) {
      await this.audit('auth.refresh', 'event', 'failure', user.username, req, { reason: 'session_ended' });
      throw error;
    }
    await this.recordTokens('auth.refresh', { ...who, via: 'refresh_token' }, user, minted, req, now);
    await this.auditOrRefuse('auth.refresh', user.username, req, {
      auth_time: who.authTime,
      session: minted.refresh.sessionId,
    });
    return minted.set;
  }

  /** Sign-out: the refresh token's whole family stops working (access tokens lapse within minutes). */
  async logout(input: LogoutInput, req: IdpRequest): Promise<LogoutResult> {
    const now = this.rt.now();
    let who: VerifiedToken;
    try {
      who = await this.tokens.verifyRefresh(input.refresh_token);
    } catch (error) {
      await this.audit('auth.logout', 'event', 'failure', 'anonymous', req, { reason: 'bad_token' });
      throw error;
    }
    const ended = await revokeRefreshSession(this.db, who.sid ?? '', 'sign_out', isoNow(now));
    await this.audit(
      'auth.logout',
      'event',
      'success',
      who.sub,
      req,
      { session: who.sid, ...(ended ? {} : { already_ended: true }) },
      { throttled: !ended },
    );
    return { signed_out: true };
  }

  // ───────────── passkeys (WebAuthn) ─────────────

  private webauthn(): WebAuthnSettings {
    const settings = this.rt.env.webauthn;
    if (!settings) throw passkeysUnavailable();
    return settings;
  }

  private async newChallenge(
    purpose: 'register' | 'sign_in' | 'step_up',
    username: string | null,
    options: PasskeyOptionsResult['options'] & { challenge: string },
    now: Date,
  ): Promise<PasskeyOptionsResult> {
    const id = newChallengeId();
    await insertChallenge(
      this.db,
      {
        id,
        challenge: options.challenge,
        purpose,
        username,
        expiresAt: isoNow(new Date(now.getTime() + CHALLENGE_TTL * 1000)),
      },
      isoNow(now),
    );
    return { challenge_id: id, options };
  }

  /**
   * The browser's prompt for a passkey: any discoverable one of this server's admins (`sign_in`,
   * no username), or one of the caller's own (`step_up`, the caller from the bearer or refresh token).
   */
  async passkeyOptions(input: PasskeyOptionsInput, req: IdpRequest): Promise<PasskeyOptionsResult> {
    const settings = this.webauthn();
    const now = this.rt.now();
    await this.prune(now);
    await this.assertAddressAllowed(input.purpose === 'sign_in' ? 'auth.passkey_login' : 'auth.step_up', req, now);
    if (input.purpose === 'sign_in') {
      return this.newChallenge('sign_in', null, await authenticationOptions(settings, []), now);
    }
    const who = await this.identify({ refresh_token: input.refresh_token }, req);
    const user = await this.sessionUser('auth.step_up', who, req);
    await this.assertTokenUsable('auth.step_up', who, user, req, now);
    const passkeys = await listPasskeys(this.db, user.username);
    if (passkeys.length === 0) {
      throw new AppError(
        'invalid_request',
        'You have no passkey yet: step up with a code, then add one on your account page.',
      );
    }
    return this.newChallenge('step_up', user.username, await authenticationOptions(settings, passkeys), now);
  }

  /**
   * Sign in (username-less) or step up with a passkey. Tokens carry `acr` `phr` and `amr` `hwk` or
   * `swk`; the challenge is spent first, whatever the outcome; failures count against the
   * client address (a forged assertion is not a guessable secret, so they do not lock the account).
   */
  async passkeyAuthenticate(input: PasskeyAuthInput, req: IdpRequest): Promise<TokenSet> {
    const settings = this.webauthn();
    const now = this.rt.now();
    const address = req.clientIp ?? 'unknown';
    const taken = await takeChallenge(this.db, input.challenge_id, ['sign_in', 'step_up'], isoNow(now));
    const action: AuthAction = taken?.purpose === 'step_up' ? 'auth.step_up' : 'auth.passkey_login';
    const reserved = await reserveAddressAttempt(this.db, address, PER_ADDRESS, now);
    if (!reserved.ok) {
      await this.audit(action, 'denied', 'denied', 'anonymous', req, {
        reason: 'address_rate_limited',
        retry_after: reserved.retryAfterSeconds,
      });
      throw addressLimited(reserved.retryAfterSeconds);
    }
    const refuse = async (actor: string, reason: string, message: string): Promise<never> => {
      await this.audit(action, 'event', 'failure', actor, req, { reason, method: 'passkey' });
      throw unauthorized(message);
    };
    if (!taken) {
      return refuse('anonymous', 'challenge_unknown', 'The passkey prompt expired or was already answered; try again.');
    }
    const passkey = await getPasskey(this.db, input.response.id);
    const user = passkey ? await getAdminUser(this.db, passkey.username) : undefined;
    if (!passkey || !user) {
      return refuse('anonymous', 'unknown_passkey', 'This passkey is not registered here; sign in another way.');
    }
    let who: (VerifiedToken & { via: 'mfa_token' | 'refresh_token' | 'access_token' }) | null = null;
    if (taken.purpose === 'step_up') {
      who = await this.identify({ refresh_token: input.refresh_token }, req);
      if (who.sub !== user.username || taken.username !== user.username) {
        return refuse(who.sub, 'passkey_of_another_admin', 'This passkey belongs to another admin.');
      }
    }
    const checked = await checkAssertion(settings, input.response, taken.challenge, passkey);
    if (!checked.ok) {
      if (checked.reason === 'counter') {
        this.rt.logger.warn(
          { username: user.username, passkey: passkey.name },
          'passkey signature counter went backwards: a cloned authenticator?',
        );
      }
      return refuse(
        user.username,
        `passkey_${checked.reason}`,
        'The passkey was not accepted; try again or sign in another way.',
      );
    }
    // The counter the check was made against is the one replaced: a concurrent twin loses here.
    const recorded = await recordPasskeyUse(
      this.db,
      {
        id: passkey.id,
        previousCounter: passkey.counter,
        counter: checked.value.counter,
        backedUp: checked.value.backedUp,
      },
      isoNow(now),
    );
    if (!recorded) return refuse(user.username, 'passkey_counter', 'The passkey was not accepted; try again.');
    await refundAddressAttempt(this.db, address, reserved.windowStart ?? '');
    if (user.disabledAt)
      return refuse(user.username, 'disabled', 'This admin account is disabled; another admin can re-enable it.');
    const method: AuthMethod = { amr: [amrOf(passkey.deviceType), 'user', 'mfa'], acr: ACR_PHR };
    const detail = { method: 'passkey', passkey: passkey.name };
    if (who) {
      const current = await this.sessionUser('auth.step_up', who, req);
      await this.assertTokenUsable('auth.step_up', who, current, req, now);
      return this.complete(who, current, method, req, now, detail);
    }
    const sv = sessionVersion(user, this.totpSecret(user));
    const minted = await this.tokens.tokenSet(user, sv, Math.floor(now.getTime() / 1000), null, method);
    await startRefreshSession(this.db, { ...minted.refresh, username: user.username }, isoNow(now));
    await clearAdminLoginFailures(this.db, user.username, isoNow(now));
    await this.auditOrRefuse('auth.passkey_login', user.username, req, {
      ...detail,
      amr: method.amr,
      acr: method.acr,
      session: minted.refresh.sessionId,
    });
    return minted.set;
  }

  // ───────────── the signed-in admin's own account ─────────────

  /**
   * The embedded admin a token speaks for, if it may change their account now: a token of this
   * server, the same credentials, and a multi-factor authentication within the step-up max age.
   * With a required `acr` (STEP_UP_REQUIRE_PHR) an admin who has a passkey must have used it, so a
   * phished TOTP code cannot add the phisher's passkey or new recovery codes; an admin without
   * one can still enrol the first.
   */
  private async freshAccount(principal: Principal, action: AuthAction, req: IdpRequest): Promise<AdminUserRow> {
    if (principal.iss !== this.issuer.issuer) {
      throw new AppError(
        'not_found',
        'Passkeys, recovery codes and passwords belong to accounts of the embedded sign-in; yours is managed by your identity provider.',
      );
    }
    const user = await getAdminUser(this.db, principal.sub);
    if (!user || user.disabledAt || sessionVersion(user, this.totpSecret(user)) !== principal.claims.sv) {
      await this.audit(action, 'denied', 'denied', principal.sub, req, { reason: 'session_ended' });
      throw unauthorized('This session has ended (the account or its credentials changed); sign in again.');
    }
    const now = this.rt.now().getTime() / 1000;
    const maxAge = this.rt.config.stepUpMaxAge;
    const mfa = principal.amr.some((m) => MFA_METHODS.includes(m));
    const fresh = mfa && principal.authTime !== null && now - principal.authTime <= maxAge;
    const acr = this.rt.config.stepUpAcr ?? [];
    const needsLevel =
      acr.length > 0 &&
      (await listPasskeys(this.db, user.username)).length > 0 &&
      !(typeof principal.claims.acr === 'string' && acr.includes(principal.claims.acr));
    if (!fresh || needsLevel) {
      const description = needsLevel
        ? `This action needs a sign-in at level ${acr.join(' or ')} (acr)`
        : `This action needs an authentication less than ${maxAge} seconds old`;
      await this.audit(action, 'denied', 'denied', user.username, req, {
        reason: needsLevel ? 'acr_required' : 'step_up_required',
      });
      throw new AppError('insufficient_user_authentication', `${description}; step up and retry.`, {
        headers: {
          'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${description}"${needsLevel ? `, acr_values="${acr.join(' ')}"` : ''}, max_age=${maxAge}`,
        },
      });
    }
    return user;
  }

  /** The caller's passkeys and how many unused recovery codes they have (no fresh MFA needed to look). */
  async account(principal: Principal): Promise<AccountResult> {
    if (principal.iss !== this.issuer.issuer) {
      return { username: principal.sub, passkeys: [], recovery_codes_left: 0 };
    }
    const passkeys = await listPasskeys(this.db, principal.sub);
    return {
      username: principal.sub,
      passkeys: passkeys.map(publicPasskey),
      recovery_codes_left: await recoveryCodesLeft(this.db, principal.sub),
    };
  }

  async passkeyRegisterOptions(principal: Principal, req: IdpRequest): Promise<PasskeyOptionsResult> {
    const settings = this.webauthn();
    const user = await this.freshAccount(principal, 'auth.passkey_register', req);
    const now = this.rt.now();
    await this.prune(now);
    const existing = await listPasskeys(this.db, user.username);
    return this.newChallenge(
      'register',
      user.username,
      await registrationOptions(settings, user.username, existing),
      now,
    );
  }

  async passkeyRegister(principal: Principal, input: PasskeyRegisterInput, req: IdpRequest): Promise<Passkey> {
    const settings = this.webauthn();
    const user = await this.freshAccount(principal, 'auth.passkey_register', req);
    const now = this.rt.now();
    const taken = await takeChallenge(this.db, input.challenge_id, ['register'], isoNow(now));
    const refuse = async (reason: string, message: string): Promise<never> => {
      await this.audit('auth.passkey_register', 'event', 'failure', user.username, req, { reason });
      throw new AppError('invalid_request', message);
    };
    if (!taken || taken.username !== user.username) {
      return refuse('challenge_unknown', 'The passkey prompt expired or was already answered; add the passkey again.');
    }
    const checked = await checkRegistration(settings, input.response, taken.challenge);
    if (!checked.ok) {
      return refuse(`passkey_${checked.reason}`, 'The authenticator’s answer was not accepted; add the passkey again.');
    }
    const credential = checked.value;
    const added = await insertPasskey(
      this.db,
      { ...credential, username: user.username, name: input.name },
      isoNow(now),
    );
    if (!added) return refuse('passkey_exists', 'This passkey is already registered.');
    const amr = amrOf(credential.deviceType);
    await this.auditOrRefuse('auth.passkey_register', user.username, req, {
      passkey: input.name,
      amr,
      backed_up: credential.backedUp,
    });
    const row = await getPasskey(this.db, credential.id);
    if (!row) throw new AppError('internal', 'The passkey was stored but cannot be read back.');
    return publicPasskey(row);
  }

  async passkeyRemove(principal: Principal, input: PasskeyRemoveInput, req: IdpRequest): Promise<{ removed: true }> {
    const user = await this.freshAccount(principal, 'auth.passkey_remove', req);
    const removed = await deletePasskey(this.db, user.username, input.id);
    if (!removed) throw new AppError('not_found', 'You have no passkey with that id.');
    await this.auditOrRefuse('auth.passkey_remove', user.username, req, {
      passkey: removed.name,
      passkeys_left: (await listPasskeys(this.db, user.username)).length,
    });
    return { removed: true };
  }

  /** A new set of recovery codes, shown this once; the previous set stops working. */
  async recoveryCodes(principal: Principal, req: IdpRequest): Promise<RecoveryCodesResult> {
    const user = await this.freshAccount(principal, 'auth.recovery_codes', req);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await replaceRecoveryCodes(
      this.db,
      user.username,
      codes.map((c) => recoveryCodeHash(user.username, c)),
      isoNow(this.rt.now()),
    );
    await this.auditOrRefuse('auth.recovery_codes', user.username, req, { generated: codes.length });
    return { codes };
  }

  /**
   * A new password. Every session of the admin ends with the old one (tokens carry a fingerprint
   * of the credentials); the caller gets a new session with the same `auth_time` and method.
   */
  async changePassword(principal: Principal, input: ChangePasswordInput, req: IdpRequest): Promise<TokenSet> {
    const user = await this.freshAccount(principal, 'auth.change_password', req);
    const now = this.rt.now();
    try {
      await changeAdminPassword(
        this.db,
        user.username,
        input.new_password,
        now,
        this.rt.env.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N,
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_request') {
        await this.audit('auth.change_password', 'event', 'failure', user.username, req, { reason: 'password_rules' });
      }
      throw error;
    }
    if (typeof principal.claims.sid === 'string') {
      await revokeRefreshSession(this.db, principal.claims.sid, 'password_changed', isoNow(now));
    }
    const changed = await getAdminUser(this.db, user.username);
    if (!changed) throw new AppError('not_found', `No admin named "${user.username}".`);
    const sv = sessionVersion(changed, this.totpSecret(changed));
    const minted = await this.tokens.tokenSet(changed, sv, principal.authTime ?? 0, null, methodOf(principal.claims));
    await startRefreshSession(this.db, { ...minted.refresh, username: changed.username }, isoNow(now));
    await this.auditOrRefuse('auth.change_password', changed.username, req, {
      other_sessions_ended: true,
      session: minted.refresh.sessionId,
    });
    return minted.set;
  }

  /** The caller of a step-up: after login (mfa_token), or an existing session (refresh or access token). */
  private async identify(
    input: StepUpInput,
    req: IdpRequest,
  ): Promise<VerifiedToken & { via: 'mfa_token' | 'refresh_token' | 'access_token' }> {
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

  /** An mfa_token not yet spent; a refresh token unused in an open session; an access token of an open session. */
  private async assertTokenUsable(
    action: AuthAction,
    who: VerifiedToken & { via: string },
    user: AdminUserRow,
    req: IdpRequest,
    now: Date,
  ): Promise<void> {
    if (who.via === 'mfa_token') {
      if (!(await tokenIdUsed(this.db, who.jti))) return;
      await this.audit(action, 'event', 'failure', user.username, req, { reason: 'mfa_token_used', via: who.via });
      throw unauthorized('This sign-in was already completed with that mfa_token; sign in again.');
    }
    if (who.via === 'refresh_token') {
      const state = await refreshTokenState(this.db, who.jti, who.sid ?? '');
      if (state === 'live') return;
      if (state === 'used') await this.reuseDetected(action, who, user, req, now);
      await this.audit(action, 'event', 'failure', user.username, req, { reason: `refresh_${state}`, via: who.via });
      throw unauthorized(SESSION_ENDED);
    }
    // Access tokens minted before sessions were recorded carry no sid: they cannot renew anything.
    if (who.sid && (await refreshSessionLive(this.db, who.sid, isoNow(now)))) return;
    await this.audit(action, 'event', 'failure', user.username, req, { reason: 'session_ended', via: who.via });
    throw unauthorized(SESSION_ENDED);
  }

  /**
   * Record new tokens before they leave: a new family after a password, a rotation after a refresh
   * token (exactly one of concurrent presentations wins; a second presentation ends the family),
   * an added token after an access token. The mfa_token is spent here, once.
   */
  private async recordTokens(
    action: AuthAction,
    who: VerifiedToken & { via: string },
    user: AdminUserRow,
    minted: MintedTokens,
    req: IdpRequest,
    now: Date,
  ): Promise<void> {
    const at = isoNow(now);
    if (who.via === 'mfa_token') {
      if (!(await consumeTokenId(this.db, who.jti, isoNow(new Date(who.exp * 1000)), at))) {
        await this.audit(action, 'event', 'failure', user.username, req, { reason: 'mfa_token_used', via: who.via });
        throw unauthorized('This sign-in was already completed with that mfa_token; sign in again.');
      }
      await startRefreshSession(this.db, { ...minted.refresh, username: user.username }, at);
      return;
    }
    if (who.via === 'access_token') {
      if (await addRefreshToken(this.db, minted.refresh, at)) return;
      await this.audit(action, 'event', 'failure', user.username, req, { reason: 'session_ended', via: who.via });
      throw unauthorized(SESSION_ENDED);
    }
    const outcome = await rotateRefreshToken(this.db, who.jti, minted.refresh, at);
    if (outcome === 'rotated') return;
    if (outcome === 'used') await this.reuseDetected(action, who, user, req, now);
    await this.audit(action, 'event', 'failure', user.username, req, { reason: `refresh_${outcome}`, via: who.via });
    throw unauthorized(SESSION_ENDED);
  }

  /** A spent refresh token came back: someone holds a copy. End the family for everyone (OAuth 2.1). */
  private async reuseDetected(
    action: AuthAction,
    who: VerifiedToken,
    user: AdminUserRow,
    req: IdpRequest,
    now: Date,
  ): Promise<void> {
    if (!(await revokeRefreshSession(this.db, who.sid ?? '', 'refresh_token_reused', isoNow(now)))) return;
    this.rt.logger.warn({ username: user.username, session: who.sid }, 'refresh token reused; session revoked');
    await this.audit(
      action,
      'event',
      'denied',
      user.username,
      req,
      { reason: 'refresh_token_reused', session: who.sid, session_revoked: true },
      { throttled: false },
    );
  }

  /** The user a token speaks for, if still allowed: exists, enabled, and the same credentials. */
  private async sessionUser(action: AuthAction, who: VerifiedToken, req: IdpRequest): Promise<AdminUserRow> {
    const user = await getAdminUser(this.db, who.sub);
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

  /**
   * Reserve one attempt against the address and the account before anything is checked. A
   * refusal here costs no hash and counts nothing.
   */
  private async reserve(
    action: AuthAction,
    address: string,
    username: string,
    user: AdminUserRow | undefined,
    actor: string,
    req: IdpRequest,
    now: Date,
    detail: Record<string, unknown> = {},
  ): Promise<Attempt> {
    const byAddress = await reserveAddressAttempt(this.db, address, PER_ADDRESS, now);
    if (!byAddress.ok) {
      await this.audit(action, 'denied', 'denied', 'anonymous', req, {
        reason: 'address_rate_limited',
        retry_after: byAddress.retryAfterSeconds,
        ...detail,
      });
      throw addressLimited(byAddress.retryAfterSeconds);
    }
    const windowStart = byAddress.windowStart ?? '';
    const refundAddress = () => refundAddressAttempt(this.db, address, windowStart);
    let byAccount: Reservation | undefined;
    let charge: Charge;
    if (user) {
      byAccount = await reserveAdminAttempt(this.db, user.username, LOCKOUT, now);
      charge = {
        fail: (at) => failAdminAttempt(this.db, user.username, LOCKOUT, at),
        refund: (at) => refundAdminAttempt(this.db, user.username, at),
      };
    } else {
      byAccount = await reserveUnknownNameAttempt(this.db, username, LOCKOUT, now);
      charge = {
        fail: (at) => failUnknownNameAttempt(this.db, username, LOCKOUT, at),
        refund: () => refundUnknownNameAttempt(this.db, username),
      };
    }
    if (!byAccount?.ok) {
      await refundAddress();
      const wait = byAccount?.retryAfterSeconds ?? 1;
      await this.audit(action, 'denied', 'denied', actor, req, { reason: 'locked', retry_after: wait, ...detail });
      throw accountLimited(wait);
    }
    return new Attempt(charge, refundAddress);
  }

  /** Count a failed attempt; the one that reaches the limit locks the account, audited. */
  private async charge(
    attempt: Attempt,
    user: AdminUserRow | undefined,
    factor: 'password' | 'otp',
    req: IdpRequest,
    now: Date,
  ): Promise<void> {
    const result = await attempt.fail(now);
    if (!result.locked || !user) return;
    this.rt.logger.warn(
      { username: user.username, locked_until: result.lockedUntil },
      'admin account locked after repeated failures',
    );
    await this.audit(
      'auth.lockout',
      'event',
      'denied',
      user.username,
      req,
      { attempts: LOCKOUT_ATTEMPTS, last_factor: factor, locked_until: result.lockedUntil },
      { throttled: false },
    );
  }

  private async assertAddressAllowed(action: AuthAction, req: IdpRequest, now: Date): Promise<void> {
    const wait = await addressBlockedFor(this.db, req.clientIp ?? 'unknown', PER_ADDRESS, now);
    if (wait > 0) {
      await this.audit(action, 'denied', 'denied', 'anonymous', req, {
        reason: 'address_rate_limited',
        retry_after: wait,
      });
      throw addressLimited(wait);
    }
  }

  private async prune(now: Date): Promise<void> {
    if (now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    try {
      await pruneSignInLimits(this.db, now);
      await pruneIdpTokens(this.db, isoNow(now));
      await pruneChallenges(this.db, isoNow(now));
    } catch (error) {
      this.rt.logger.warn({ err: { message: (error as Error).message } }, 'pruning expired sign-in state failed');
    }
  }

  /**
   * Failures and denials: through the audit writer's per-address throttle that bounds denied API
   * calls (one budget for both), the suppressed count riding on the next row. A lost row is
   * logged; the caller still gets the real answer.
   */
  private audit(
    action: AuthAction,
    phase: AuditEvent['phase'],
    outcome: AuditEvent['outcome'],
    actor: string,
    req: IdpRequest,
    detail: Record<string, unknown>,
    opts: { throttled?: boolean } = {},
  ): Promise<void> {
    return auditEvent(this.rt, { actor, clientIp: req.clientIp }, action, { phase, outcome, detail }, opts);
  }

  /** Successes: no token leaves without its audit row (fail closed). */
  private auditOrRefuse(action: AuthAction, actor: string, req: IdpRequest, detail: Record<string, unknown>) {
    return auditedEvent(this.rt, { actor, clientIp: req.clientIp }, action, detail, 'no token was issued');
  }
}

function publicPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    name: row.name,
    amr: amrOf(row.deviceType),
    created_at: row.createdAt,
    last_used_at: row.lastUsedAt,
  };
}

/** The runtime's embedded IdP, or not_found when it is off. */
export function embeddedIdp(rt: Runtime): EmbeddedIdp {
  if (!rt.idp) {
    throw new AppError(
      'not_found',
      'The embedded identity provider is off (ALPHASWARM_ADMIN_EMBEDDED_IDP); sign in through the configured OIDC issuer.',
    );
  }
  return rt.idp;
}
