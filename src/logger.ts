// JSON logs (pino). Entered digits and passwords must never reach a log line: the IVR
// code does not log them, and these paths are redacted as a second line of defence.
import pino, { type Logger } from 'pino';

const REDACT = [
  'password', '*.password', 'tempPassword', '*.tempPassword', 'digits', '*.digits',
  'entered', '*.entered', 'secret', '*.secret', 'pin', '*.pin',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: 'chakushin' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}

export type { Logger };
