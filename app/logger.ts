import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './service-config.ts';

/**
 * What never reaches the service's logs: credentials in request headers (the Action's OIDC token,
 * cookies), webhook signatures, and the same in errors of outgoing requests. Probot's request log
 * (pino-http) writes every request's headers; pino's children inherit the redaction.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature"]',
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'request.headers.authorization',
  'err.request.headers.authorization',
  'err.response.headers["set-cookie"]',
];

/** The service's root logger: JSON lines at `level`, credentials redacted. */
export function serviceLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
