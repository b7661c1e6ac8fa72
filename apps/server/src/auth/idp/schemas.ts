import { z } from 'zod';

/** Admin user names: what a person types at a login prompt; no normalisation beyond that. */
export const Username = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._@-]{0,63}$/,
    'A username is 1-64 characters of a-z, 0-9, ".", "_", "@" or "-", starting with a letter or digit.',
  );

/** Scopes an embedded admin may hold; service scopes are for service principals only. */
export const ADMIN_SCOPES = ['admin:cluster', 'admin:read'] as const;

/** Rules for a new password (NIST SP 800-63B): length and not a common password; no composition rules. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
export const PASSWORD_RULES = `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, not a commonly used password`;
