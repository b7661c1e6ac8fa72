import { SECRET_PARAMS } from '@alphaswarm/contracts/kinds';
import pino, { type Logger } from 'pino';

/** Names that carry a secret whatever the kind: credentials of our own and HTTP's. */
const SECRET_NAMES = ['token', 'password', 'secret', 'authorization', 'cookie', 'refresh_token', 'mfa_token'];

/**
 * Paths that may carry a secret anywhere in a log object: redacted, never printed. Every kind's
 * secret params (from its facts) are covered as names, in a procedure's input and in wizard params.
 */
export const REDACT_PATHS = [
  ...new Set([
    ...[...SECRET_NAMES, ...SECRET_PARAMS].flatMap((name) => [name, `*.${name}`, `input.${name}`]),
    ...SECRET_PARAMS.map((name) => `input.params.${name}`),
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'headers.cookie',
  ]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'alphaswarm-admin' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
