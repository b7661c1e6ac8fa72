// The one description of every table. `scripts/gen-schema.ts` turns it into the Drizzle schemas of
// both dialects (`sqlite.ts`, `pg.ts`), from which drizzle-kit generates each dialect's migrations.
// Change a table here, regenerate, then generate migrations for both dialects (see the README).

/**
 * Abstract column types. Timestamps are RFC 3339 `text` in both dialects: they order like the
 * instants they name and export byte-identically. `json` is text-mode JSON in SQLite and `json`
 * (not jsonb, which reorders keys) in PostgreSQL. `serial` is the audit sequence: `integer primary
 * key autoincrement` in SQLite, `bigint generated always as identity` (read as a number) in
 * PostgreSQL.
 */
export type ColumnType = 'text' | 'int' | 'json' | 'serial';

/** A default the database fills in: a number, or the current time as RFC 3339 text. */
export type ColumnDefault = number | 'now';

export interface Column {
  name: string;
  type: ColumnType;
  notNull?: boolean;
  primaryKey?: boolean;
  unique?: boolean;
  default?: ColumnDefault;
  /** TypeScript type of a json column's value. */
  tsType?: string;
  references?: { table: string; column: string; onDelete: 'cascade' };
  doc?: string;
}

export interface Index {
  name: string;
  columns: string[];
  unique?: boolean;
}

export interface Table {
  name: string;
  doc?: string;
  columns: Record<string, Column>;
  indexes?: Index[];
}

const text = (name: string, more: Partial<Column> = {}): Column => ({ name, type: 'text', ...more });
const int = (name: string, more: Partial<Column> = {}): Column => ({ name, type: 'int', ...more });
const json = (name: string, tsType: string, more: Partial<Column> = {}): Column => ({
  name,
  type: 'json',
  tsType,
  ...more,
});
const req = { notNull: true } as const;
const pk = { primaryKey: true } as const;

/** Tables in the order they are declared (a referenced table comes before its references). */
export const model: Record<string, Table> = {
  integrations: {
    name: 'integrations',
    doc: 'One link per (org, kind). `secret` is a Fernet token or null; nothing else is sensitive.',
    columns: {
      credentialKey: text('credential_key', pk),
      orgId: text('org_id', req),
      kind: text('kind', req),
      namespace: text('namespace', req),
      status: text('status', req),
      connectedAt: text('connected_at', req),
      lastHealthAt: text('last_health_at'),
      lastHealthStatus: text('last_health_status'),
      error: json('error', '{ code: string; message: string } | null'),
      metadata: json('metadata', 'Record<string, unknown>', req),
      secret: text('secret'),
      expiresAt: text('expires_at'),
      updatedAt: text('updated_at', req),
    },
    indexes: [
      { name: 'integrations_org_kind', columns: ['orgId', 'kind'], unique: true },
      { name: 'integrations_expires', columns: ['expiresAt'] },
    ],
  },

  auditEvents: {
    name: 'audit_events',
    doc:
      'Append-only, hash-chained. Appends are serialised (a write transaction in SQLite, an advisory\n' +
      'lock in PostgreSQL); `prev_hash` is unique as well, so two writers can never both extend the\n' +
      "same tip: the loser's insert fails and it retries on the new tip.",
    columns: {
      seq: { name: 'seq', type: 'serial', primaryKey: true },
      id: text('id', { notNull: true, unique: true }),
      runId: text('run_id', req),
      at: text('at', req),
      actor: text('actor', req),
      clientIp: text('client_ip'),
      action: text('action', req),
      phase: text('phase', req),
      outcome: text('outcome', req),
      orgId: text('org_id'),
      kind: text('kind'),
      credentialKey: text('credential_key'),
      detail: json('detail', 'Record<string, unknown>', req),
      prevHash: text('prev_hash', { notNull: true, unique: true }),
      hash: text('hash', req),
      keyId: text('key_id', {
        doc: 'The audit key whose HMAC `hash` is; null for rows of the plain SHA-256 chain before the upgrade anchor.',
      }),
    },
    indexes: [
      { name: 'audit_run', columns: ['runId'] },
      { name: 'audit_org_at', columns: ['orgId', 'at'] },
      { name: 'audit_at', columns: ['at'] },
    ],
  },

  auditOpenRuns: {
    name: 'audit_open_runs',
    doc:
      'Audit runs whose attempt row has no outcome row yet, and which process wrote the attempt.\n' +
      'Kept in the same transaction as those rows, so recovery after a crash or a full disk finds\n' +
      "them without scanning the log, and can tell a live writer's run from a dead one's.",
    columns: {
      runId: text('run_id', pk),
      owner: text('owner', {
        notNull: true,
        doc: "`<host>/<pid>/<random>` of the writing process; '' when unknown (runs from before this table).",
      }),
      openedAt: text('opened_at', req),
    },
    indexes: [{ name: 'audit_open_runs_opened', columns: ['openedAt'] }],
  },

  auditOutbox: {
    name: 'audit_outbox',
    doc:
      'Streaming outbox: the audit table is the log, and each sink has one row here: the last seq it\n' +
      'took, the lease of the one process streaming it, and its backoff.',
    columns: {
      sink: text('sink', pk),
      deliveredSeq: int('delivered_seq', { notNull: true, default: 0 }),
      leaseOwner: text('lease_owner'),
      leaseUntil: text('lease_until'),
      attempts: int('attempts', { notNull: true, default: 0, doc: 'Failed attempts in a row.' }),
      nextAttemptAt: text('next_attempt_at'),
      lastError: text('last_error', { doc: 'Never a credential: the sink names host and status only.' }),
      updatedAt: text('updated_at', req),
    },
  },

  auditCheckpoints: {
    name: 'audit_checkpoints',
    doc: 'Signed checkpoints of the chain ({last_seq, last_link, time} as an Ed25519 JWS), also written as audit rows.',
    columns: {
      lastSeq: int('last_seq', pk),
      lastLink: text('last_link', req),
      time: text('time', req),
      kid: text('kid', req),
      jws: text('jws', req),
    },
  },

  auditArchives: {
    name: 'audit_archives',
    doc:
      'Retention cuts: rows up to `through_seq` were archived to `file` and deleted. The append-only\n' +
      'trigger lets a DELETE through only for rows a cut covers.',
    columns: {
      throughSeq: int('through_seq', pk),
      throughLink: text('through_link', req),
      file: text('file', req),
      archivedAt: text('archived_at', req),
    },
  },

  storeProbe: {
    name: 'store_probe',
    doc: 'One row rewritten by the readiness probe: proves the database takes a committed write.',
    columns: {
      id: int('id', pk),
      at: text('at', req),
    },
  },

  wizardSessions: {
    name: 'wizard_sessions',
    columns: {
      id: text('id', pk),
      orgId: text('org_id', req),
      kind: text('kind', req),
      createdBy: text('created_by', req),
      createdAt: text('created_at', req),
      updatedAt: text('updated_at', req),
      expiresAt: text('expires_at', req),
      state: json('state', 'Record<string, unknown>', {
        notNull: true,
        doc: 'Step results; a Cloudflare token in it is kept only as a Fernet token.',
      }),
      version: int('version', {
        notNull: true,
        default: 0,
        doc: 'Bumped by every write: the optimistic lock (timestamps have one-second resolution).',
      }),
    },
    indexes: [
      { name: 'wizard_org_kind', columns: ['orgId', 'kind'] },
      { name: 'wizard_expires', columns: ['expiresAt'] },
    ],
  },

  signingKeys: {
    name: 'signing_keys',
    doc: "JWT signing keys of our two issuers ('admin' and 'workload'); private halves Fernet-encrypted.",
    columns: {
      kid: text('kid', pk),
      issuer: text('issuer', req),
      alg: text('alg', req),
      privateKey: text('private_key', req),
      publicJwk: json('public_jwk', 'Record<string, unknown>', req),
      createdAt: text('created_at', req),
      retiredAt: text('retired_at', { doc: 'Stops signing at this time; still published until `publish_until`.' }),
      publishUntil: text('publish_until'),
    },
    indexes: [{ name: 'signing_keys_issuer', columns: ['issuer', 'createdAt'] }],
  },

  adminUsers: {
    name: 'admin_users',
    columns: {
      username: text('username', pk),
      passwordHash: text('password_hash', req),
      totpSecret: text('totp_secret', { notNull: true, doc: 'Fernet token of the base32 TOTP secret.' }),
      scopes: text('scopes', req),
      createdAt: text('created_at', req),
      disabledAt: text('disabled_at'),
      failedAttempts: int('failed_attempts', { notNull: true, default: 0 }),
      lockedUntil: text('locked_until'),
      lastTotpStep: int('last_totp_step', {
        notNull: true,
        default: 0,
        doc: 'Highest TOTP time step accepted: a code can be used once.',
      }),
      updatedAt: text('updated_at', { notNull: true, default: 'now' }),
      tokensValidAfter: text('tokens_valid_after', {
        doc: 'Set by "sign out everywhere": embedded-IdP access tokens issued before this instant are refused.',
      }),
    },
  },

  adminPasskeys: {
    name: 'admin_passkeys',
    doc:
      "An admin's WebAuthn credentials (passkeys). The public key verifies sign-ins; nothing here opens\n" +
      'anything by itself, but it is never logged or audited either.',
    columns: {
      id: text('id', { primaryKey: true, doc: 'The credential id (base64url), as the authenticator names it.' }),
      username: text('username', {
        notNull: true,
        references: { table: 'adminUsers', column: 'username', onDelete: 'cascade' },
      }),
      name: text('name', req),
      publicKey: text('public_key', { notNull: true, doc: 'COSE public key, base64url.' }),
      counter: int('counter', {
        notNull: true,
        default: 0,
        doc: 'Signature counter last seen; a lower one means a cloned authenticator.',
      }),
      transports: json('transports', 'string[]', req),
      deviceType: text('device_type', {
        notNull: true,
        doc: '`singleDevice` (device-bound: amr hwk) or `multiDevice` (synced passkey: amr swk).',
      }),
      backedUp: int('backed_up', req),
      createdAt: text('created_at', req),
      lastUsedAt: text('last_used_at'),
    },
    indexes: [{ name: 'admin_passkeys_user', columns: ['username'] }],
  },

  adminRecoveryCodes: {
    name: 'admin_recovery_codes',
    doc: 'One-time recovery codes of an admin: only the SHA-256 of each is kept; `used_at` is claimed once.',
    columns: {
      codeHash: text('code_hash', pk),
      username: text('username', {
        notNull: true,
        references: { table: 'adminUsers', column: 'username', onDelete: 'cascade' },
      }),
      createdAt: text('created_at', req),
      usedAt: text('used_at'),
    },
    indexes: [{ name: 'admin_recovery_codes_user', columns: ['username'] }],
  },

  webauthnChallenges: {
    name: 'webauthn_challenges',
    doc:
      'WebAuthn challenges between the options and the answer of a ceremony, in the database so any\n' +
      'process can finish what another began; deleted by the answer that uses it (single use).',
    columns: {
      id: text('id', pk),
      challenge: text('challenge', req),
      purpose: text('purpose', { notNull: true, doc: '`register`, `sign_in` or `step_up`.' }),
      username: text('username', { doc: 'Whose ceremony it is; null for a username-less sign-in.' }),
      createdAt: text('created_at', req),
      expiresAt: text('expires_at', req),
    },
    indexes: [{ name: 'webauthn_challenges_expires', columns: ['expiresAt'] }],
  },

  signInAddressLimits: {
    name: 'sign_in_address_limits',
    doc:
      'Failed sign-in attempts per client address, in fixed windows. An attempt is reserved here\n' +
      '(one conditional upsert) before its password hash or code check runs, so concurrent requests\n' +
      'and several processes share one budget; a success gives its reservation back.',
    columns: {
      address: text('address', pk),
      attempts: int('attempts', req),
      windowStart: text('window_start', req),
      expiresAt: text('expires_at', {
        notNull: true,
        doc: 'When this row stops mattering (end of its window); pruned after.',
      }),
    },
    indexes: [{ name: 'sign_in_address_limits_expires', columns: ['expiresAt'] }],
  },

  signInUnknownUsers: {
    name: 'sign_in_unknown_users',
    doc:
      'The account lockout rule of `admin_users` for names that have no row, so an unknown name locks\n' +
      'exactly like a real one. Keyed by a hash: what someone typed as a username is not kept.',
    columns: {
      nameHash: text('name_hash', pk),
      failedAttempts: int('failed_attempts', req),
      lockedUntil: text('locked_until'),
      expiresAt: text('expires_at', req),
    },
    indexes: [{ name: 'sign_in_unknown_users_expires', columns: ['expiresAt'] }],
  },

  onboardingShares: {
    name: 'onboarding_shares',
    doc:
      "Hand-off links to a wizard session for the customer's cloud admin. Only the SHA-256 of the\n" +
      'unguessable token is kept: a copy of the database opens no session.',
    columns: {
      id: text('id', pk),
      sessionId: text('session_id', {
        notNull: true,
        references: { table: 'wizardSessions', column: 'id', onDelete: 'cascade' },
      }),
      tokenHash: text('token_hash', { notNull: true, unique: true, doc: 'Hex SHA-256 of the token in the link.' }),
      orgId: text('org_id', req),
      createdBy: text('created_by', req),
      createdAt: text('created_at', req),
      expiresAt: text('expires_at', req),
      revokedAt: text('revoked_at'),
    },
    indexes: [
      { name: 'onboarding_shares_session', columns: ['sessionId'] },
      { name: 'onboarding_shares_expires', columns: ['expiresAt'] },
    ],
  },

  auditDenialWindows: {
    name: 'audit_denial_windows',
    doc:
      'The denied-call audit bound per client address, shared by every process: in each minute at\n' +
      'most a few denial rows are written, the rest counted (`suppressed`) and carried onto the next\n' +
      'written row. One conditional upsert decides and counts, so replicas share one budget.',
    columns: {
      address: text('address', pk),
      windowStart: text('window_start', req),
      written: int('written', req),
      suppressed: int('suppressed', req),
      admitted: int('admitted', { notNull: true, doc: 'Whether the last call was let through (1) or counted (0).' }),
      carried: int('carried', {
        notNull: true,
        doc: 'The suppressed count the last admitted call carries onto its row.',
      }),
      expiresAt: text('expires_at', req),
    },
    indexes: [{ name: 'audit_denial_windows_expires', columns: ['expiresAt'] }],
  },

  usedTokenIds: {
    name: 'used_token_ids',
    doc: "Single-use tokens already spent (the embedded IdP's mfa_token), kept until they would have expired.",
    columns: {
      jti: text('jti', pk),
      usedAt: text('used_at', req),
      expiresAt: text('expires_at', req),
    },
    indexes: [{ name: 'used_token_ids_expires', columns: ['expiresAt'] }],
  },

  refreshSessions: {
    name: 'refresh_sessions',
    doc:
      'A signed-in session of the embedded IdP: one family of refresh tokens. Revoking it (sign-out,\n' +
      'or a refresh token presented twice) ends every token of the family at once.',
    columns: {
      id: text('id', pk),
      username: text('username', req),
      createdAt: text('created_at', req),
      expiresAt: text('expires_at', req),
      revokedAt: text('revoked_at'),
      revokedReason: text('revoked_reason'),
    },
    indexes: [
      { name: 'refresh_sessions_expires', columns: ['expiresAt'] },
      { name: 'refresh_sessions_user', columns: ['username'] },
    ],
  },

  refreshTokens: {
    name: 'refresh_tokens',
    doc: 'Each refresh token is single use: `used_at` is claimed by exactly one refresh.',
    columns: {
      jti: text('jti', pk),
      sessionId: text('session_id', {
        notNull: true,
        references: { table: 'refreshSessions', column: 'id', onDelete: 'cascade' },
      }),
      issuedAt: text('issued_at', req),
      expiresAt: text('expires_at', req),
      usedAt: text('used_at'),
    },
    indexes: [
      { name: 'refresh_tokens_session', columns: ['sessionId'] },
      { name: 'refresh_tokens_expires', columns: ['expiresAt'] },
    ],
  },

  healthHistory: {
    name: 'health_history',
    doc:
      'One row per health probe of a link (connect, re-check, sweep, rotate): what it found, how long\n' +
      "it took, the error's code and message (never a secret), the expiry seen. Pruned by age.",
    columns: {
      id: { name: 'id', type: 'serial', primaryKey: true },
      credentialKey: text('credential_key', req),
      orgId: text('org_id', req),
      kind: text('kind', req),
      at: text('at', req),
      source: text('source', req),
      result: text('result', req),
      latencyMs: int('latency_ms', req),
      errorCode: text('error_code'),
      errorMessage: text('error_message'),
      expiresAt: text('expires_at'),
    },
    indexes: [
      { name: 'health_history_link', columns: ['orgId', 'kind', 'id'] },
      { name: 'health_history_at', columns: ['at'] },
      // An org's timeline: a range of its days, counted from the index alone.
      { name: 'health_history_org_day', columns: ['orgId', 'at', 'kind', 'result'] },
    ],
  },

  alertOutbox: {
    name: 'alert_outbox',
    doc:
      'The alert outbox: one row per (alert, endpoint), written with the change that caused it and\n' +
      'delivered at least once by whichever process claims it (`lease_until`). It is the delivery log.',
    columns: {
      id: text('id', pk),
      endpoint: text('endpoint', req),
      type: text('type', req),
      subject: text('subject'),
      body: text('body', req),
      createdAt: text('created_at', req),
      status: text('status', req),
      attempts: int('attempts', req),
      nextAttemptAt: text('next_attempt_at', req),
      leaseUntil: text('lease_until'),
      lastStatus: int('last_status'),
      lastError: text('last_error'),
      deliveredAt: text('delivered_at'),
    },
    indexes: [
      { name: 'alert_outbox_due', columns: ['status', 'nextAttemptAt'] },
      { name: 'alert_outbox_created', columns: ['createdAt'] },
    ],
  },

  alertMarks: {
    name: 'alert_marks',
    doc: 'Expiry-countdown thresholds already announced for one expiry of one link: each fires once, across restarts.',
    columns: {
      credentialKey: text('credential_key', req),
      expiresAt: text('expires_at', req),
      threshold: int('threshold', req),
      at: text('at', req),
    },
    indexes: [{ name: 'alert_marks_once', columns: ['credentialKey', 'expiresAt', 'threshold'], unique: true }],
  },

  alertEndpoints: {
    name: 'alert_endpoints',
    doc:
      'Managed alert endpoints (`notifications.*`): a Standard Webhooks receiver or a Slack incoming\n' +
      'webhook. `secret` is Fernet-sealed like link secrets (a Slack URL is a secret too: it is in it).',
    columns: {
      id: text('id', pk),
      name: text('name', req),
      type: text('type', req),
      secret: text('secret', req),
      host: text('host', {
        notNull: true,
        doc: "The host shown in lists (a Slack URL's path is its secret, so never the whole URL).",
      }),
      eventTypes: json('event_types', 'string[]', req),
      createdAt: text('created_at', req),
    },
  },

  consoleSessions: {
    name: 'console_sessions',
    doc:
      "The console's sessions, shared by every console replica. Keyed by the SHA-256 of the cookie's\n" +
      'session id (a copy of the database opens no session); the session itself (tokens, pending\n' +
      'step-up input, flash) is Fernet-sealed under the console key, which the API does not hold.',
    columns: {
      idHash: text('id_hash', { primaryKey: true, doc: 'Hex SHA-256 of the session id in the cookie.' }),
      subject: text('subject', {
        doc: "Who is signed in, named as the API's audit names them (`sub`, or `<iss>#<sub>` for SSO); null before sign-in.",
      }),
      createdAt: text('created_at', req),
      lastSeenAt: text('last_seen_at', req),
      expiresAt: text('expires_at', {
        notNull: true,
        doc: 'The earlier of the idle and the absolute limit, moved by each last-seen write; pruned after.',
      }),
      address: text('address', { doc: 'Client address of the last request seen.' }),
      userAgent: text('user_agent', { doc: 'User agent of the last request seen (truncated).' }),
      version: int('version', {
        notNull: true,
        default: 0,
        doc: 'Bumped by every change of `data`: the compare-and-set of concurrent requests and replicas.',
      }),
      data: text('data', { notNull: true, doc: 'Fernet token of the session (JSON) under the console key.' }),
      refreshOwner: text('refresh_owner', { doc: 'Who holds the token-refresh lease (a random id per attempt).' }),
      refreshUntil: text('refresh_until', {
        doc: 'The lease ends here: one refresh at a time spends the single-use refresh token.',
      }),
    },
    indexes: [
      { name: 'console_sessions_subject', columns: ['subject'] },
      { name: 'console_sessions_expires', columns: ['expiresAt'] },
    ],
  },
};
