// Taking over the calls of a worker or node that died: each call its journal shows still up is recorded
// exactly once (the record and the removal of its journal row are one statement, and incoming_call is
// unique on the Call-ID), by the crash rules of the call journal (docs/notify.md):
//   - ringing (or not yet ringing): 応答なし, final_status null, 呼出時間 from the first 18x (else the
//     INVITE) to the last moment known;
//   - answered: 通話, final_status 200, ending at the last moment known;
//   - end_reason 'service_crashed'.
// "The last moment known" is the later of when the holder was last known alive and the call's last
// event. The lines of calls that were still ringing are handed back for a CANCEL (sip-cancel.ts).
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { OutgoingInvite } from './leg-cancel.ts';
import type { JournalRow } from '../store/call-journal.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { NotifyProfile } from './profile.ts';
import { recordCalls, type FinishedCall } from './record.ts';

export interface TakenOver {
  recorded: number;
  /** Outgoing INVITEs of calls not answered: the lines that may still ring. */
  ringing: OutgoingInvite[];
}

const BATCH = 200;

/** The record a call left open gives by the crash rules. */
export function crashRecord(row: JournalRow, lastKnown: Date): { profile: NotifyProfile; call: FinishedCall } {
  const endAt = new Date(Math.max(lastKnown.getTime(), row.lastAt.getTime()));
  return {
    profile: row.profile as NotifyProfile,
    call: {
      callId: row.callId, calledNumber: row.calledNumber, caller: row.caller as CallerId,
      timeline: {
        inviteAt: row.inviteAt, ringAt: row.ringAt ?? undefined, answerAt: row.answerAt ?? undefined, endAt,
        finalStatus: row.answerAt ? 200 : null, forwarded: row.forwarded, endReason: 'service_crashed',
      },
    },
  };
}

/** Records the calls `rows` left open; throws when the database cannot take them (the caller retries). */
export async function takeOverCalls(
  pool: pg.Pool, config: Pick<Config, 'mail' | 'notify'>, rows: JournalRow[], lastKnown: Date, log: Logger,
): Promise<TakenOver> {
  let recorded = 0;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const results = await recordCalls(pool, config, batch.map((r) => crashRecord(r, lastKnown)));
    results.forEach((r, j) => {
      const row = batch[j]!;
      if (r.incomingCallId !== null) recorded++;
      log.warn({ callId: row.callId, called: row.calledNumber, worker: row.worker, answered: !!row.answerAt, already: r.incomingCallId === null, mails: r.mailIds.length },
        'call up when its worker died: recorded from the call journal');
    });
  }
  return { recorded, ringing: rows.filter((r) => !r.answerAt).flatMap((r) => r.legs as OutgoingInvite[]) };
}
