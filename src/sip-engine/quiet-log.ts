// A flood must not turn into a flood of log lines: warnings of one kind are written at most once per
// interval, and the next one written says how many were left out.
import type { Logger } from 'pino';

export type QuietWarn = (fields: Record<string, unknown>, msg: string) => void;

export function quietWarn(log: Logger, intervalMs = 1000): QuietWarn {
  const last = new Map<string, { at: number; skipped: number }>();
  return (fields, msg) => {
    const now = Date.now();
    const seen = last.get(msg);
    if (seen && now - seen.at < intervalMs) {
      seen.skipped++;
      return;
    }
    log.warn(seen?.skipped ? { ...fields, alsoSinceLastLine: seen.skipped } : fields, msg);
    last.set(msg, { at: now, skipped: 0 });
  };
}
