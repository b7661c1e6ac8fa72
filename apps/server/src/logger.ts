import pino, { type Logger } from 'pino';

/** Paths that may carry a secret anywhere in a log object: redacted, never printed. */
export const REDACT_PATHS = [
  'token',
  'pat',
  'password',
  'secret',
  'api_token',
  'authorization',
  'cookie',
  '*.token',
  '*.pat',
  '*.password',
  '*.secret',
  '*.api_token',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'input.token',
  'input.pat',
  'input.params.api_token',
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
