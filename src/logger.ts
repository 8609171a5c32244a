// The process logger of the sidecar and of the standalone pre-filter: pino JSON lines at LOG_LEVEL, secrets redacted.
import { pino, type DestinationStream, type Logger } from 'pino'

export const LOG_REDACT = ['req.headers.authorization', 'headers.authorization', '*.token', '*.forwardToken', '*.connectionString']

/** `destination`: standard output unless given (tests pass a stream). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: LOG_REDACT, censor: '[redacted]' } }, destination)
}
