import { pino, type Logger, type DestinationStream } from 'pino';

// Secrets must never reach a log line, whatever object a caller hands the logger.
const REDACT = [
  'authorization', 'apiKey', 'api_key', 'key', 'secretAccessKey', 'sessionToken', 'password',
  '*.authorization', '*.apiKey', '*.api-key', '*.key', '*.secretAccessKey', '*.sessionToken', '*.password',
  'headers.authorization', 'headers["api-key"]', '*.headers.authorization', '*.headers["api-key"]',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', base: { service: 'stateroute' }, redact: { paths: REDACT, censor: '[REDACTED]' } },
    options.destination,
  );
}
