import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Paths pino censors in every record, at every level. Credentials objects also mask themselves
 * (toJSON), so a secret that reaches a record through an unexpected path is still not printed.
 */
export const REDACT_PATHS = [
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  'headers["x-security-token"]',
  'headers["X-Security-Token"]',
  '*.authorization',
  '*.Authorization',
  'sk',
  'securityToken',
  'token',
  'CLOUD_SDK_SK',
  'CLOUD_SDK_SECURITY_TOKEN',
  'CLEANUP_API_TOKEN',
  'config.CLOUD_SDK_SK',
  'config.CLOUD_SDK_SECURITY_TOKEN',
  'config.CLEANUP_API_TOKEN',
  'CLEANUP_WEBHOOK_SECRET',
  'config.CLEANUP_WEBHOOK_SECRET',
  'secret',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Defaults to stdout; tests pass a stream to read the records. */
  destination?: DestinationStream;
}

/** A JSON pino logger with the project's redaction rules. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name ?? 'dcs-cleanup',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
