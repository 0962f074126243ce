// The local spool of call records (着信お知らせメール must never lose a 着信): a record the database
// cannot take right now is kept on disk and saved later by the replayer, at start and every few
// seconds while anything waits. Replaying is idempotent (recordCall skips a call already recorded,
// and its mails with it), so a crash between saving and deleting the file costs nothing.
import { mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { recordCall } from './record.ts';
import { listSpoolFiles, openSpoolWriter, readSpoolFile, replayable, type SpoolEntry, type SpoolFileName, type SpoolWriter } from './spool-file.ts';

export interface NotifySpoolOptions {
  dir: string;
  pool: pg.Pool;
  config: Pick<Config, 'mail' | 'notify'>;
  logger: Logger;
  registry?: Registry;
  /** Pause between replay rounds while entries wait. */
  intervalMs?: number;
}

export interface NotifySpool {
  /** Keeps a call record on disk; resolves once it is there. */
  put(entry: SpoolEntry): Promise<void>;
  /** One replay round now (waits for a round already running); returns the entries still waiting. */
  replayNow(): Promise<number>;
  /** Entries waiting in the spool directory, as of the last round plus those put since. */
  waiting(): number;
  /** Stops replaying and closes this run's file; what is left is replayed at the next start. */
  stop(): Promise<void>;
}

/**
 * SQLSTATE classes that say the record itself is unacceptable: retrying cannot help. Anything else
 * (connection refused or lost, server shutting down, database missing, too many clients…) is the
 * database being unavailable, and the entry waits.
 */
const REJECTED_CLASSES = new Set(['22', '23']);

export function isPermanent(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && REJECTED_CLASSES.has(code.slice(0, 2));
}

/**
 * Replays every spool file in dir no live writer may still append to (`own`: this process's writer,
 * whose closed files it replays too); returns the entries still waiting. Used by the spool's own rounds,
 * and by the node for a worker that died, before that worker's journal is taken over: a call that
 * ended and was spooled must be recorded from the spool, not as a crashed call.
 */
export function spoolReplayer(opts: Pick<NotifySpoolOptions, 'dir' | 'pool' | 'config' | 'logger'>, own?: SpoolWriter): () => Promise<number> {
  const { dir, pool, config } = opts;
  const log = opts.logger.child({ part: 'notify-spool' });
  const rejectedFile = path.join(dir, 'rejected', `notify-${process.pid}-${own?.run ?? 'replay'}.jsonl`);
  /** Last reason replay could not proceed; logged once per outage, not every round. */
  let blockedBy: string | undefined;

  /** Lines that can never be saved are kept aside for an operator, never dropped silently. */
  async function reject(from: SpoolFileName, raw: string, reason: string): Promise<void> {
    await mkdir(path.dirname(rejectedFile), { recursive: true });
    const fh = await open(rejectedFile, 'a');
    try {
      await fh.write(`${JSON.stringify({ at: new Date().toISOString(), file: path.basename(from.file), reason, line: raw })}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /** Saves a file's entries in order; deletes it when all are done. Returns the entries left. */
  async function replayFile(f: SpoolFileName): Promise<{ left: number; blocked: boolean }> {
    let lines;
    try {
      lines = await readSpoolFile(f.file);
    } catch (err) {
      // Another instance took the same dead writer's file and finished it first.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { left: 0, blocked: false };
      throw err;
    }
    for (const [i, line] of lines.entries()) {
      if (!line.ok) {
        if (line.torn) log.warn({ file: f.file, bytes: line.raw.length }, 'spool: torn last line skipped (writer died mid-write); kept in rejected/');
        else log.error({ file: f.file, line: i + 1, err: line.error }, 'spool: unreadable line skipped; kept in rejected/');
        await reject(f, line.raw, line.torn ? 'torn last line' : line.error);
        continue;
      }
      const { profile, call } = line.entry;
      try {
        const r = await recordCall(pool, config, profile, call);
        log.info({ callId: call.callId, called: call.calledNumber, mails: r.mailIds.length, already: r.incomingCallId === null }, 'spooled call recorded');
      } catch (err) {
        if (isPermanent(err)) {
          log.error({ callId: call.callId, err: (err as Error).message }, 'spool: call record refused by the database; kept in rejected/');
          await reject(f, line.raw, (err as Error).message);
          continue;
        }
        const why = (err as Error).message;
        if (blockedBy !== why) log.warn({ err: why, waiting: lines.length - i }, 'spool: database unavailable; will retry');
        blockedBy = why;
        return { left: lines.slice(i).filter((l) => l.ok).length, blocked: true };
      }
    }
    await unlink(f.file).catch((err: NodeJS.ErrnoException) => {
      // Another instance replayed the same dead writer's file and got there first.
      if (err.code !== 'ENOENT') throw err;
    });
    return { left: 0, blocked: false };
  }

  async function countEntries(f: SpoolFileName): Promise<number> {
    try {
      return (await readSpoolFile(f.file)).filter((l) => l.ok).length;
    } catch {
      return 0; // replayed and deleted meanwhile
    }
  }

  return async function replayRound(): Promise<number> {
    let left = 0;
    let blocked = false;
    const replay = async (f: SpoolFileName) => {
      if (blocked || !replayable(f, own)) return void (left += await countEntries(f));
      const r = await replayFile(f);
      left += r.left;
      blocked = r.blocked;
    };
    // This run's own open file is closed and replayed only once the older ones went through, so an
    // outage does not leave a new file behind every round.
    const current = own?.currentFile();
    const files = await listSpoolFiles(dir);
    for (const f of files) if (f.file !== current) await replay(f);
    const ownFile = files.find((f) => f.file === current);
    if (ownFile && !blocked) await own!.rotate();
    if (ownFile) await replay(ownFile);
    if (!blocked && blockedBy) {
      log.info('spool: database available again');
      blockedBy = undefined;
    }
    return left;
  };
}

export function startNotifySpool(opts: NotifySpoolOptions): NotifySpool {
  const { dir } = opts;
  const log = opts.logger.child({ part: 'notify-spool' });
  const intervalMs = opts.intervalMs ?? 5_000;
  const writer = openSpoolWriter(dir);
  const replayRound = spoolReplayer(opts, writer);
  let waiting = 0;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<number> | undefined;
  let stopped = false;

  if (opts.registry) {
    new Gauge({
      name: 'chakushin_notify_spooled_calls',
      help: 'Call records in the local spool waiting to be saved to the database',
      registers: [opts.registry],
      collect() {
        this.set(waiting);
      },
    });
  }

  /** A round, then another after intervalMs while anything is left or this run holds a file. */
  function roundThenReschedule(): void {
    replayNow()
      .then((left) => void ((left > 0 || writer.currentFile()) && schedule(intervalMs)))
      .catch((err: Error) => {
        log.error({ err: err.message }, 'spool: replay round failed');
        schedule(intervalMs);
      });
  }

  function schedule(ms: number): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      roundThenReschedule();
    }, ms);
    timer.unref();
  }

  function replayNow(): Promise<number> {
    round ??= replayRound()
      .then((left) => (waiting = left))
      .finally(() => (round = undefined));
    return round;
  }

  // What an earlier run left is replayed at once; replayNow() joins this first round.
  roundThenReschedule();

  return {
    async put(entry) {
      await writer.append(entry);
      waiting++;
      schedule(intervalMs);
    },
    replayNow,
    waiting: () => waiting,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await round?.catch(() => undefined);
      await writer.close();
    },
  };
}
