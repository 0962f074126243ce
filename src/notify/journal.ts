// The call journal: a 着信 is on record in PostgreSQL from its INVITE, so neither a worker killed
// outright nor a node lost for good loses the calls that were up — any node can read the journal and
// take them over (takeover.ts). One row per call (table call_journal): started (with everything the
// record needs), each outgoing leg's INVITE as sent (what a takeover CANCELs), ringing, answered. The
// row goes in the same statement as the call's record (store/call-records.ts).
//
// Writes never wait on the SIP path: events are batched, one statement for all the events of a moment
// (database.batchWindowMs), one statement at a time. A call that ends before its first write is never
// written; a process killed within that moment of a call's INVITE leaves no trace of the call.
// While the database is unavailable the events wait in memory and are tried again; a call that ends
// meanwhile is recorded through the spool (spool.ts), and only a crash during the outage loses its
// journal entry.
import type pg from 'pg';
import type { Logger } from 'pino';
import { batchWindow } from '../batch-window.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { OutgoingInvite } from './leg-cancel.ts';
import { writeJournal, type JournalInsert, type JournalKey, type JournalOwner, type JournalUpdate } from '../store/call-journal.ts';
import type { NotifyProfile } from './profile.ts';

export interface JournalStart {
  callId: string;
  calledNumber: string;
  caller: CallerId;
  profile: NotifyProfile;
  inviteAt: Date;
}

export interface CallJournal {
  started(call: JournalStart): void;
  /** An outgoing leg's INVITE went out; a call may have more than one (ボイスワープ's forward): one call each. */
  legSent(callId: string, invite: OutgoingInvite): void;
  ringing(callId: string, at: Date, forwarded: boolean): void;
  answered(callId: string, at: Date): void;
  /**
   * The call is over and its record is about to be saved. Resolves once nothing of the call is being
   * written, so the record's statement, which removes the row, always comes after the row.
   */
  ended(callId: string): Promise<void>;
  /** The call leaves the journal without a record of its own from here (a FAX reception takes it over). */
  forget(callId: string): void;
  /** Writes what is pending (a last try) and stops. */
  close(): Promise<void>;
}

/** What changed since the last write: firsts stay first, the last moment only grows, legs accumulate. */
interface Pending {
  ringAt?: Date;
  answerAt?: Date;
  forwarded: boolean;
  /** The call's last event (its 18x, its answer): a moment its holder is known to have been alive. */
  lastAt?: Date;
  legs: OutgoingInvite[];
}

interface Entry {
  start: JournalStart;
  /** no: not in the database; writing: its insert is in flight; yes: committed. */
  inserted: 'no' | 'writing' | 'yes';
  pending?: Pending;
  /** The statement carrying this call's last write, while in flight. */
  writing?: Promise<void>;
}

const RETRY_MS = 1_000;
const iso = (d: Date | undefined) => d?.toISOString() ?? null;

function merge(into: Pending | undefined, p: Pending): Pending {
  if (!into) return p;
  return {
    ringAt: into.ringAt ?? p.ringAt, answerAt: into.answerAt ?? p.answerAt, forwarded: into.forwarded || p.forwarded,
    lastAt: !into.lastAt || (p.lastAt && p.lastAt > into.lastAt) ? p.lastAt : into.lastAt, legs: [...into.legs, ...p.legs],
  };
}

export function openCallJournal(opts: { pool: pg.Pool; owner: JournalOwner; logger: Logger; windowMs: number }): CallJournal {
  const { pool, owner } = opts;
  const log = opts.logger.child({ part: 'notify-journal' });
  const calls = new Map<string, Entry>();
  const dirty = new Set<Entry>();
  /** Calls let go of whose rows are (or may be) written: removed with the next write. */
  let gone: { key: JournalKey; after?: Promise<void> }[] = [];
  let flushing: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failing: string | undefined;
  let closed = false;

  function note(callId: string, p: Partial<Pending>): void {
    const e = calls.get(callId);
    if (!e) return;
    e.pending = merge(e.pending, { forwarded: false, legs: [], ...p });
    dirty.add(e);
    schedule();
  }

  /** The next write goes once the events of the moment are in: they all share it. */
  function schedule(): void {
    if (flushing || retry || closed) return;
    flushing = batchWindow(opts.windowMs).then(flush).finally(() => {
      flushing = undefined;
      if (dirty.size || gone.some((g) => !g.after)) schedule();
    });
  }

  async function flush(): Promise<void> {
    const inserts: JournalInsert[] = [];
    const updates: JournalUpdate[] = [];
    // A row still being inserted is removed by a later write.
    const removing = gone.filter((g) => !g.after);
    gone = gone.filter((g) => g.after);
    const batch: { e: Entry; sent: Pending | undefined; insert: boolean }[] = [];
    for (const e of dirty) {
      // An update waits for its call's insert to commit; the insert carries everything known by then.
      if (e.inserted === 'writing') continue;
      dirty.delete(e);
      const p = e.pending;
      e.pending = undefined;
      const s = e.start;
      if (e.inserted === 'no') {
        e.inserted = 'writing';
        inserts.push({
          c: s.callId, n: s.calledNumber, invite_at: s.inviteAt.toISOString(), ring_at: iso(p?.ringAt), answer_at: iso(p?.answerAt),
          fw: p?.forwarded ?? false, last_at: (p?.lastAt ?? s.inviteAt).toISOString(), caller: s.caller, profile: s.profile, legs: p?.legs ?? [],
        });
        batch.push({ e, sent: p, insert: true });
      } else if (p) {
        updates.push({ c: s.callId, n: s.calledNumber, ring_at: iso(p.ringAt), answer_at: iso(p.answerAt), fw: p.forwarded, last_at: iso(p.lastAt), legs: p.legs });
        batch.push({ e, sent: p, insert: false });
      }
    }
    if (!batch.length && !removing.length) return;
    const written = writeJournal(pool, owner, inserts, updates, removing.map((g) => g.key));
    for (const b of batch) b.e.writing = written;
    try {
      await written;
      if (failing) log.info('call journal written again');
      failing = undefined;
      for (const b of batch) {
        if (b.insert) b.e.inserted = 'yes';
        if (b.e.writing === written) b.e.writing = undefined;
        if (b.e.pending && calls.has(b.e.start.callId)) dirty.add(b.e);
      }
    } catch (err) {
      const why = (err as Error).message;
      if (failing !== why) log.warn({ err: why, calls: batch.length }, 'call journal not written; retrying (calls up meanwhile are journaled once it goes through)');
      failing = why;
      for (const b of batch) {
        if (b.insert) b.e.inserted = 'no';
        if (b.e.writing === written) b.e.writing = undefined;
        // Still up: what this write carried is written with the next one.
        if (!calls.has(b.e.start.callId)) continue;
        b.e.pending = b.sent ? merge(b.sent, b.e.pending ?? { forwarded: false, legs: [] }) : b.e.pending;
        dirty.add(b.e);
      }
      gone.push(...removing);
      retry = setTimeout(() => {
        retry = undefined;
        schedule();
      }, RETRY_MS);
      retry.unref();
    }
  }

  return {
    started(call) {
      const e: Entry = { start: call, inserted: 'no' };
      calls.set(call.callId, e);
      dirty.add(e);
      schedule();
    },
    legSent: (callId, invite) => note(callId, { legs: [invite] }),
    ringing: (callId, at, forwarded) => note(callId, { ringAt: at, forwarded, lastAt: at }),
    answered: (callId, at) => note(callId, { answerAt: at, lastAt: at }),
    async ended(callId) {
      const e = calls.get(callId);
      if (!e) return;
      calls.delete(callId);
      dirty.delete(e);
      await e.writing?.catch(() => undefined);
    },
    forget(callId) {
      const e = calls.get(callId);
      if (!e) return;
      calls.delete(callId);
      dirty.delete(e);
      if (e.inserted === 'no') return;
      const g: { key: JournalKey; after?: Promise<void> } = { key: { c: e.start.callId, n: e.start.calledNumber }, after: e.writing };
      gone.push(g);
      void (e.writing ?? Promise.resolve()).catch(() => undefined).then(() => {
        g.after = undefined;
        schedule();
      });
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      retry = undefined;
      await flushing;
      if (dirty.size || gone.length) await flush().catch(() => undefined);
    },
  };
}
