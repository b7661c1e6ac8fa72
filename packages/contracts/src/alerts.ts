/*
 * Every alert type the server raises (the CloudEvents `type`), for an endpoint's event-type filter.
 * An endpoint with no filter receives all of them.
 */
export const ALERT_TYPES = [
  'com.alphaswarm.integration.unhealthy',
  'com.alphaswarm.integration.needs_reconnect',
  'com.alphaswarm.integration.degraded',
  'com.alphaswarm.integration.healthy',
  'com.alphaswarm.integration.expiring',
  'com.alphaswarm.upstream.unreachable',
  'com.alphaswarm.upstream.recovered',
  'com.alphaswarm.key.rotated',
  'com.alphaswarm.audit.verify_failed',
  'com.alphaswarm.test',
] as const;

export type AlertType = (typeof ALERT_TYPES)[number];
