// Saving a finished call: straight to the database, and to the local spool when the database
// cannot take it (down, or too slow to answer, or the service is stopping). Either way the record
// is durable once save() resolves. A call saved both ways is recorded once: replay is idempotent.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { NotifyProfile } from './profile.ts';
import { recordCall, type FinishedCall } from './record.ts';
import type { NotifySpool } from './spool.ts';
import { settledWithin } from '../call-tracker.ts';

export interface CallSaverOptions {
  pool: pg.Pool;
  config: Pick<Config, 'mail' | 'notify'>;
  logger: Logger;
  spool: NotifySpool;
  /** A save the database has not confirmed by then is spooled as well (a hung connection must not hold the record in memory only). */
  spoolAfterMs?: number;
}

export interface CallSaver {
  /** Resolves once the record is committed or spooled (or, should the disk fail too, logged as lost). */
  save(profile: NotifyProfile, call: FinishedCall): Promise<void>;
  /** Waits up to deadlineMs for saves in flight, then spools the rest and waits for that. */
  flush(deadlineMs: number): Promise<void>;
}

interface PendingSave {
  durable: Promise<void>;
  spool(why: string): Promise<void>;
}

export function createCallSaver(opts: CallSaverOptions): CallSaver {
  const { pool, config, spool } = opts;
  const log = opts.logger.child({ part: 'notify' });
  const spoolAfterMs = opts.spoolAfterMs ?? 10_000;
  const pending = new Set<PendingSave>();

  function save(profile: NotifyProfile, call: FinishedCall): Promise<void> {
    let spooling: Promise<void> | undefined;
    let saved = false;
    let settle!: () => void;
    const durable = new Promise<void>((r) => (settle = r));
    const entry: PendingSave = {
      durable,
      spool: (why) =>
        saved ? Promise.resolve() : (spooling ??= spool.put({ profile, call }).then(
          () => log.warn({ callId: call.callId, called: call.calledNumber, why }, 'call record spooled; saved when the database is back'),
          // The last resort: everything needed to re-enter the record by hand is in this log line.
          (err: Error) => log.error({ entry: { profile, call }, err: err.message, why }, 'call record lost: database and spool both unavailable'),
        ).finally(settle)),
    };
    pending.add(entry);
    void durable.then(() => pending.delete(entry));
    const timer = setTimeout(() => void entry.spool('database did not answer in time'), spoolAfterMs);
    recordCall(pool, config, profile, call)
      .then(
        (r) => {
          saved = true;
          log.info({ callId: call.callId, called: call.calledNumber, mails: r.mailIds.length, decision: r.decision }, 'call recorded');
          settle();
        },
        (err: Error) => entry.spool(err.message),
      )
      .finally(() => clearTimeout(timer));
    return durable;
  }

  return {
    save,
    async flush(deadlineMs) {
      await settledWithin([...pending].map((p) => p.durable), deadlineMs);
      await Promise.all([...pending].map((p) => p.spool('service stopping')));
    },
  };
}
