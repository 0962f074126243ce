// Writes finished calls (incoming_call) with their mails (mail_outbox), many in one statement
// (store/call-records.ts): a recorded call always has its mails queued, a mail never exists without its
// call, and the call's journal row goes with it. What each call's record and mails say is decided here.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { formatNotifyMail } from '../mail/format.ts';
import { insertCallRecords, type CallMailRow, type CallRecordRow } from '../store/call-records.ts';
import { classifyCall, isCodecRejection, type CallTimeline } from './classify.ts';
import { mailDecision, type MailDecision, type Refusal } from './decide.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { NotifyProfile } from './profile.ts';

interface CallBase {
  callId: string;
  calledNumber: string;
  caller: CallerId;
}
export type FinishedCall =
  | (CallBase & { refused: Refusal; inviteAt: Date; endAt: Date })
  | (CallBase & { refused?: undefined; timeline: CallTimeline });

export interface RecordResult {
  /** null when this call was already recorded (a repeat save changes nothing). */
  incomingCallId: number | null;
  decision: MailDecision | { send: false; why: string };
  mailIds: number[];
}

type RecordConfig = Pick<Config, 'mail' | 'notify'>;

/** The row and mails one call gives, and the mail decision they follow. */
function recordOf(config: RecordConfig, profile: NotifyProfile, call: FinishedCall): { row: CallRecordRow; decision: RecordResult['decision'] } {
  const iso = (d: Date | undefined) => d?.toISOString() ?? null;
  const base = { call_id: call.callId, called_number: call.calledNumber, caller_number: call.caller.number, absent_reason: call.caller.absentReason };
  if (call.refused) {
    return {
      row: {
        ...base, invite_at: call.inviteAt.toISOString(), ring_at: null, answer_at: null, end_at: call.endAt.toISOString(),
        final_status: call.refused.status, status: null, ring_seconds: null, refused_by: call.refused.by, end_reason: null, mails: [],
      },
      decision: { send: false, why: `refused by ${call.refused.by}` },
    };
  }
  const t = call.timeline;
  const c = classifyCall(t);
  const decision = mailDecision(profile, call.caller, c);
  let mails: CallMailRow[] = [];
  if (decision.send) {
    const footer = config.mail.footers[profile.pattern][profile.region];
    const text = formatNotifyMail(
      { calledNumber: call.calledNumber, inviteAt: t.inviteAt, callerNumber: call.caller.number, absentReason: call.caller.absentReason, ringSeconds: c.ringSeconds, status: c.status },
      profile.pattern,
      footer,
    );
    // A codec rejection may be followed by the standard-quality retry (高音質電話): hold its mails
    // for the window; the retry cancels them (supersedeCodecRejectedCalls).
    const delaySec = isCodecRejection(t.finalStatus) ? config.notify.codecRetryWindowSec : 0;
    mails = decision.to.map((to) => ({
      kind: 'notify', to_address: to, from_address: footer.from, subject: text.subject, body: text.body,
      charset: config.mail.charset, delay_sec: delaySec, retry_for_sec: config.mail.retryForSec,
    }));
  }
  return {
    row: {
      ...base, invite_at: t.inviteAt.toISOString(), ring_at: (t.ringAt ?? t.inviteAt).toISOString(), answer_at: iso(t.answerAt),
      end_at: t.endAt.toISOString(), final_status: t.finalStatus, status: c.status, ring_seconds: c.ringSeconds, refused_by: null,
      end_reason: t.endReason ?? null, mails,
    },
    decision,
  };
}

/** Records the calls (in one statement); results in the order given. */
export async function recordCalls(pool: pg.Pool, config: RecordConfig, calls: { profile: NotifyProfile; call: FinishedCall }[]): Promise<RecordResult[]> {
  const records = calls.map(({ profile, call }) => recordOf(config, profile, call));
  const inserted = await insertCallRecords(pool, records.map((r) => r.row));
  return inserted.map((r, i) => (r.incomingCallId === null
    ? { incomingCallId: null, decision: { send: false, why: 'already recorded' }, mailIds: [] }
    : { incomingCallId: r.incomingCallId, decision: records[i]!.decision, mailIds: r.mailIds }));
}

export async function recordCall(pool: pg.Pool, config: RecordConfig, profile: NotifyProfile, call: FinishedCall): Promise<RecordResult> {
  return (await recordCalls(pool, config, [{ profile, call }]))[0]!;
}

/**
 * The call now arriving is the standard-quality retry of a call the line rejected for its codec:
 * the earlier call's still-pending mails are dropped so the subscriber gets one mail for one call.
 */
export async function supersedeCodecRejectedCalls(
  pool: pg.Pool,
  calledNumber: string,
  callerNumber: string | null,
  windowSec: number,
): Promise<number> {
  const r = await pool.query(
    `delete from mail_outbox o using incoming_call i
      where o.incoming_call_id = i.id and o.state = 'pending' and o.kind = 'notify'
        and i.called_number = $1 and i.caller_number is not distinct from $2
        and i.final_status in (415, 488) and i.end_at > now() - make_interval(secs => $3)`,
    [calledNumber, callerNumber, windowSec],
  );
  return r.rowCount ?? 0;
}
