// Retention of FAX receptions: every fax.sweepIntervalSec, receptions past their expiry
// (fax.retentionDays after they came) are deleted, record and PDF, in batches. Any instance may
// sweep; rows are taken with SKIP LOCKED, so instances sweeping at once never wait on each other.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { sweepExpiredFaxReceptions } from '../store/fax.ts';

export interface FaxSweep {
  /** One sweep now (all expired receptions); resolves with how many were deleted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startFaxSweep(opts: { pool: pg.Pool; config: Pick<Config, 'fax'>; logger: Logger; now?: () => Date }): FaxSweep {
  const log = opts.logger.child({ part: 'fax-sweep' });
  const now = opts.now ?? (() => new Date());
  let running: Promise<number> | undefined;

  async function sweepAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await sweepExpiredFaxReceptions(opts.pool, now());
      total += n;
      if (n === 0) break;
    }
    if (total) log.info({ deleted: total }, 'expired FAX receptions deleted');
    return total;
  }

  const sweep = () => (running ??= sweepAll().finally(() => (running = undefined)));
  const timer = setInterval(() => {
    sweep().catch((err: Error) => log.warn({ err: err.message }, 'FAX retention sweep failed; retried at the next round'));
  }, opts.config.fax.sweepIntervalSec * 1000);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
