// The call journal: a 着信 is on disk from its INVITE, so a process killed outright (SIGKILL, power
// loss) does not lose the calls that were up. One file per process run, `calls-<pid>-<run>.jsonl`,
// next to the spool, with one short line per event: started (with everything the record needs),
// ringing, answered, ended (its record is committed or spooled). Writes are batched: one write and
// one fdatasync for all the events of a moment, never awaited on the SIP path.
//
// While calls are open the file's mtime is touched every second, so after a crash the mtime is the
// last moment the process is known to have been alive. Recovery (recoverJournal, by the spool's
// replayer once the writer's process is gone and its spooled records are saved) records each call
// that was started but not ended, exactly once (recordCall is idempotent on the Call-ID):
//   - ringing: 応答なし, final_status null, 呼出時間 up to the last moment known;
//   - answered: 通話, ending at the last moment known;
//   - end_reason 'service_crashed'.
import { mkdir, open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { NotifyProfile } from './profile.ts';
import { recordCall, type FinishedCall } from './record.ts';

export interface JournalStart {
  callId: string;
  calledNumber: string;
  caller: CallerId;
  profile: NotifyProfile;
  inviteAt: Date;
}

export interface CallJournal {
  started(call: JournalStart): void;
  ringing(callId: string, at: Date, forwarded: boolean): void;
  answered(callId: string, at: Date): void;
  /** The call's record is durable (committed or spooled): nothing left to recover. */
  ended(callId: string): void;
  /** Writes what is pending and closes the file; a file with no open call is removed. */
  close(): Promise<void>;
}

type Line =
  | { t: 's'; c: string; n: string; caller: CallerId; profile: NotifyProfile; at: string }
  | { t: 'r'; c: string; at: string; fw: boolean }
  | { t: 'a'; c: string; at: string }
  | { t: 'e'; c: string };

const FILE_NAME = /^calls-(\d+)-([0-9a-z]+)\.jsonl$/;
/** A journal with no open call is started afresh once it has grown past this. */
const ROTATE_BYTES = 1 << 20;
const HEARTBEAT_MS = 1_000;

export function journalFileName(dir: string, pid: number, run: string): string {
  return path.join(dir, `calls-${pid}-${run}.jsonl`);
}

export function parseJournalFileName(file: string): { file: string; pid: number; run: string } | undefined {
  const m = FILE_NAME.exec(path.basename(file));
  return m ? { file, pid: Number(m[1]), run: m[2]! } : undefined;
}

export function openCallJournal(dir: string, run: string, logger: Logger): CallJournal {
  const log = logger.child({ part: 'notify-journal' });
  const file = journalFileName(dir, process.pid, run);
  const open_ = new Set<string>();
  let pending: string[] = [];
  let fh: FileHandle | undefined;
  let bytes = 0;
  let flushing: Promise<void> | undefined;
  let failed = false;
  let heartbeat: NodeJS.Timeout | undefined;

  async function flushAll(): Promise<void> {
    while (pending.length && !failed) {
      const chunk = pending.join('');
      pending = [];
      try {
        if (!fh) {
          await mkdir(dir, { recursive: true });
          fh = await open(file, 'a');
          bytes = (await fh.stat()).size;
        }
        await fh.write(chunk);
        await fh.datasync();
        bytes += Buffer.byteLength(chunk);
      } catch (err) {
        // Calls still get their records at their end; only a crash would now lose them.
        failed = true;
        log.error({ file, err: (err as Error).message }, 'call journal not writable: calls up at a crash would be lost');
      }
    }
    if (!open_.size && bytes > ROTATE_BYTES && fh && !pending.length) {
      const old = fh;
      fh = undefined;
      bytes = 0;
      await old.close();
      await unlink(file).catch(() => undefined);
    }
  }

  function write(line: Line): void {
    if (failed) return;
    pending.push(`${JSON.stringify(line)}\n`);
    flushing ??= flushAll().finally(() => (flushing = undefined));
  }

  function beat(): void {
    if (!open_.size) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      return;
    }
    const now = new Date();
    void fh?.utimes(now, now).catch(() => undefined);
  }

  return {
    started(c) {
      open_.add(c.callId);
      write({ t: 's', c: c.callId, n: c.calledNumber, caller: c.caller, profile: c.profile, at: c.inviteAt.toISOString() });
      if (!heartbeat) {
        heartbeat = setInterval(beat, HEARTBEAT_MS);
        heartbeat.unref();
      }
    },
    ringing: (callId, at, fw) => write({ t: 'r', c: callId, at: at.toISOString(), fw }),
    answered: (callId, at) => write({ t: 'a', c: callId, at: at.toISOString() }),
    ended(callId) {
      if (!open_.delete(callId)) return;
      write({ t: 'e', c: callId });
    },
    async close() {
      clearInterval(heartbeat);
      while (flushing) await flushing;
      const h = fh;
      fh = undefined;
      await h?.close();
      if (!open_.size) await unlink(file).catch(() => undefined);
    },
  };
}

interface OpenCall {
  start: Extract<Line, { t: 's' }>;
  ringAt?: Date;
  answerAt?: Date;
  forwarded: boolean;
  lastAt: Date;
}

/** The calls a journal file shows started and not ended, as the records recovery writes for them. */
export async function openCallsIn(file: string): Promise<{ profile: NotifyProfile; call: FinishedCall }[]> {
  const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  const lastKnown = st.mtime;
  const calls = new Map<string, OpenCall>();
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // a torn last line: the event it would have added is lost, the call is not
    }
    const call = calls.get(line.c);
    if (line.t === 's') calls.set(line.c, { start: line, forwarded: false, lastAt: new Date(line.at) });
    else if (!call) continue;
    else if (line.t === 'e') calls.delete(line.c);
    else if (line.t === 'r') {
      call.ringAt ??= new Date(line.at);
      call.forwarded ||= line.fw;
      call.lastAt = new Date(line.at);
    } else if (line.t === 'a') {
      call.answerAt = new Date(line.at);
      call.lastAt = call.answerAt;
    }
  }
  return [...calls.values()].map((c) => {
    const endAt = new Date(Math.max(lastKnown.getTime(), c.lastAt.getTime()));
    return {
      profile: c.start.profile,
      call: {
        callId: c.start.c, calledNumber: c.start.n, caller: c.start.caller,
        timeline: {
          inviteAt: new Date(c.start.at), ringAt: c.ringAt, answerAt: c.answerAt, endAt,
          finalStatus: c.answerAt ? 200 : null, forwarded: c.forwarded, endReason: 'service_crashed',
        },
      },
    };
  });
}

/** Records the calls a dead writer's journal left open, then removes the file. Throws when the database cannot take them (retried next round). */
export async function recoverJournal(file: string, pool: pg.Pool, config: Pick<Config, 'mail' | 'notify'>, log: Logger): Promise<number> {
  const open = await openCallsIn(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []; // another instance recovered it first
    throw err;
  });
  for (const { profile, call } of open) {
    const r = await recordCall(pool, config, profile, call);
    log.warn({ callId: call.callId, called: call.calledNumber, already: r.incomingCallId === null, mails: r.mailIds.length }, 'call up when the service died: recorded from the journal');
  }
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  return open.length;
}
