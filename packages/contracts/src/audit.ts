import { z } from 'zod';
import { type ConnectProcedure, kinds, PAT_KINDS } from './kinds/index';

/*
 * Every action the audit log names. API procedures are named by their path (denied calls to reads
 * are audited too); the embedded IdP, the CLI and the system (first-start import) have their own.
 * The writer takes only these, so a new audited action must be added here, where the console's
 * audit filter finds it too.
 */

const FIXED = [
  // API: integrations
  'integrations.list',
  'integrations.get',
  'integrations.orgs',
  'integrations.attention',
  'integrations.checkHealthMany',
  'integrations.history',
  'integrations.timeline',
  'integrations.disconnect',
  'integrations.checkHealth',
  'integrations.rotate',
  // API: services, onboarding, audit, store, session
  'credentials.issue',
  'notifications.create',
  'notifications.list',
  'notifications.test',
  'notifications.delete',
  'notifications.deliveries',
  'notifications.redeliver',
  'cloudOnboarding.start',
  'cloudOnboarding.get',
  'cloudOnboarding.progress',
  'cloudOnboarding.list',
  'cloudOnboarding.bootstrapArtifacts',
  'cloudOnboarding.validateIdentity',
  'cloudOnboarding.validatePermissions',
  'cloudOnboarding.enumerateResources',
  'cloudOnboarding.connect',
  'cloudOnboarding.verifyTrust',
  'cloudOnboarding.share',
  'cloudOnboarding.revokeShare',
  'cloudOnboarding.discard',
  // The public hand-off page (actor `share:<share id>`)
  'handoff.get',
  'handoff.submit',
  'handoff.verifyTrust',
  'audit.list',
  'audit.export',
  'audit.verify',
  // The audit chain's own rows: key upgrade and rotation, signed checkpoints, retention cuts
  'audit.chain_upgraded',
  'audit.key_rotated',
  'audit.checkpoint',
  'audit.archived',
  'store.status',
  'store.export',
  'store.import',
  'system.whoami',
  'auth.me',
  // API: the signed-in admin's own console sessions
  'sessions.list',
  'sessions.signOutEverywhere',
  // Embedded IdP sign-in events
  'auth.login',
  'auth.step_up',
  'auth.refresh',
  'auth.logout',
  'auth.lockout',
  'auth.passkey_login',
  'auth.passkey_register',
  'auth.passkey_remove',
  'auth.recovery_codes',
  'auth.change_password',
  // System: an alert raised (state change, expiry countdown, key rotation, audit chain failure)
  'alert.fired',
  // CLI
  'store.rotate_key',
  'store.forget_secrets',
  'signing_keys.rotate',
  'admin_users.create',
  'admin_users.reset_mfa',
  'admin_users.disable',
  'admin_users.enable',
  'admin_users.change_password',
] as const;

/** A PAT kind's connect procedure, one per kind. */
export type ConnectAction = `integrations.connect.${ConnectProcedure}`;
export type AuditAction = (typeof FIXED)[number] | ConnectAction;

export function connectAction(kind: (typeof PAT_KINDS)[number]): ConnectAction {
  return `integrations.connect.${kinds[kind].connectProcedure}`;
}

export const AUDIT_ACTIONS: readonly [AuditAction, ...AuditAction[]] = [...FIXED, ...PAT_KINDS.map(connectAction)];
export const AuditAction = z.enum(AUDIT_ACTIONS);

const KNOWN = new Set<string>(AUDIT_ACTIONS);

export function isAuditAction(value: string): value is AuditAction {
  return KNOWN.has(value);
}
