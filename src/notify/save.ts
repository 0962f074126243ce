// Saving finished calls: straight to the database, many calls in one statement (the records of a
// moment together, database.batchWindowMs, one statement at a time), and to the local spool when the database cannot take them
// (down, too slow to answer, or the service is stopping). Either way a record is durable once save()
// resolves. A call saved both ways is recorded once: replay is idempotent.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { NotifyProfile } from './profile.ts';
import { recordCall, recordCalls, type FinishedCall, type RecordResult } from './record.ts';
import { isPermanent, type NotifySpool } from './spool.ts';
import { settledWithin } from '../call-tracker.ts';
import { batchWindow } from '../batch-window.ts';

export interface CallSaverOptions {
  pool: pg.Pool;
  config: Pick<Config, 'mail' | 'notify'>;
  logger: Logger;
  spool: NotifySpool;
  /** A save the database has not confirmed by then is spooled as well (a hung connection must not hold the record in memory only). */
  spoolAfterMs?: number;
  /** How long a record waits for others to go in the same statement. */
  windowMs: number;
}

export interface CallSaver {
  /**
   * Resolves once the record is committed or spooled (or, should the disk fail too, logged as lost).
   * `after`: what the database write must wait for (the call's journal writes, which the record removes).
   */
  save(profile: NotifyProfile, call: FinishedCall, after?: Promise<void>): Promise<void>;
  /** Waits up to deadlineMs for saves in flight, then spools the rest and waits for that. */
  flush(deadlineMs: number): Promise<void>;
}

interface PendingSave {
  profile: NotifyProfile;
  call: FinishedCall;
  durable: Promise<void>;
  saved(): void;
  spool(why: string): Promise<void>;
}

/** The most calls one statement records. */
const MAX_BATCH = 200;

export function createCallSaver(opts: CallSaverOptions): CallSaver {
  const { pool, config, spool } = opts;
  const log = opts.logger.child({ part: 'notify' });
  const spoolAfterMs = opts.spoolAfterMs ?? 10_000;
  const pending = new Set<PendingSave>();
  const queue: PendingSave[] = [];
  let writing = false;

  /** One statement at a time; the calls ended meanwhile go together in the next. */
  function writeNext(): void {
    if (writing || !queue.length) return;
    writing = true;
    void writeBatch().finally(() => {
      writing = false;
      writeNext();
    });
  }

  async function writeBatch(): Promise<void> {
    await batchWindow(opts.windowMs);
    const batch = queue.splice(0, MAX_BATCH);
    try {
      const results = await recordCalls(pool, config, batch);
      results.forEach((r, i) => saved(batch[i]!, r));
    } catch (err) {
      // A record the database refuses for good must not hold back the others: each alone then.
      if (!isPermanent(err) || batch.length === 1) {
        await Promise.all(batch.map((p) => p.spool((err as Error).message)));
        return;
      }
      await Promise.all(batch.map((p) => recordCall(pool, config, p.profile, p.call).then((r) => saved(p, r), (again: Error) => p.spool(again.message))));
    }
  }

  function saved(p: PendingSave, r: RecordResult): void {
    log.info({ callId: p.call.callId, called: p.call.calledNumber, mails: r.mailIds.length, decision: r.decision.send ? 'send' : r.decision.why }, 'call recorded');
    p.saved();
  }

  function save(profile: NotifyProfile, call: FinishedCall, after?: Promise<void>): Promise<void> {
    let spooling: Promise<void> | undefined;
    let saved = false;
    let settle!: () => void;
    const durable = new Promise<void>((r) => (settle = r));
    const entry: PendingSave = {
      profile, call, durable,
      saved() {
        saved = true;
        settle();
      },
      spool: (why) =>
        saved ? Promise.resolve() : (spooling ??= spool.put({ profile, call }).then(
          () => log.warn({ callId: call.callId, called: call.calledNumber, why }, 'call record spooled; saved when the database is back'),
          // The last resort: everything needed to re-enter the record by hand is in this log line.
          (err: Error) => log.error({ entry: { profile, call }, err: err.message, why }, 'call record lost: database and spool both unavailable'),
        ).finally(settle)),
    };
    pending.add(entry);
    const timer = setTimeout(() => void entry.spool('database did not answer in time'), spoolAfterMs);
    void durable.then(() => {
      clearTimeout(timer);
      pending.delete(entry);
    });
    void (after ?? Promise.resolve()).then(() => {
      queue.push(entry);
      writeNext();
    });
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
