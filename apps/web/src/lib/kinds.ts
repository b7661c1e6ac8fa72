// Client-safe: the kinds come from the zod-free `@alphaswarm/contracts/kinds` entry (plain data),
// types only from contracts, so no schema code reaches the browser.
import type { IntegrationStatus } from '@alphaswarm/contracts';
import { WIZARD_STEPS, type WizardStepName } from '@alphaswarm/contracts/kinds';

export type BadgeStatus = IntegrationStatus | 'not_connected';

export const STATUS_LABELS: Record<BadgeStatus, string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  unhealthy: 'Unhealthy',
  needs_reconnect: 'Needs reconnect',
  not_connected: 'Not connected',
};

export const STEPS = WIZARD_STEPS;
export type Step = WizardStepName;

export const STEP_TITLES: Record<Step, string> = {
  bootstrap_artifacts: 'Set-up artifacts',
  validate_identity: 'Validate identity',
  validate_permissions: 'Check permissions',
  enumerate_resources: 'Resources',
  connect: 'Connect',
};

/** Statuses from most to least urgent, for counts and filters. */
export const STATUS_ORDER = ['unhealthy', 'needs_reconnect', 'degraded', 'healthy'] as const;
