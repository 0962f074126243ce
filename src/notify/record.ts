// Writes a finished call (incoming_call) and its mails (mail_outbox) in one transaction, so a
// recorded call always has its mails queued and a mail never exists without its call.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { formatNotifyMail } from '../mail/format.ts';
import { enqueueMails } from '../mail/outbox.ts';
import { withTransaction } from '../store/transaction.ts';
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

export async function recordCall(
  pool: pg.Pool,
  config: Pick<Config, 'mail' | 'notify'>,
  profile: NotifyProfile,
  call: FinishedCall,
): Promise<RecordResult> {
  return withTransaction(pool, (client) => recordIn(client, config, profile, call));
}

async function recordIn(client: pg.PoolClient, config: Pick<Config, 'mail' | 'notify'>, profile: NotifyProfile, call: FinishedCall): Promise<RecordResult> {
  const c = call.refused ? undefined : classifyCall(call.timeline);
  const t = call.refused ? undefined : call.timeline;
  const { rows } = await client.query<{ id: number }>(
    `insert into incoming_call (call_id, called_number, caller_number, absent_reason, invite_at, ring_at, answer_at,
                                end_at, final_status, status, ring_seconds, refused_by, end_reason)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (call_id, called_number) do nothing
     returning id`,
    [
      call.callId, call.calledNumber, call.caller.number, call.caller.absentReason,
      call.refused ? call.inviteAt : t!.inviteAt,
      t ? (t.ringAt ?? t.inviteAt) : null,
      t?.answerAt ?? null,
      call.refused ? call.endAt : t!.endAt,
      call.refused ? call.refused.status : t!.finalStatus,
      c?.status ?? null,
      c?.ringSeconds ?? null,
      call.refused?.by ?? null,
      t?.endReason ?? null,
    ],
  );
  const id = rows[0]?.id ?? null;
  if (id === null) return { incomingCallId: null, decision: { send: false, why: 'already recorded' }, mailIds: [] };
  if (!c || !t) return { incomingCallId: id, decision: { send: false, why: `refused by ${call.refused!.by}` }, mailIds: [] };

  const decision = mailDecision(profile, call.caller, c);
  if (!decision.send) return { incomingCallId: id, decision, mailIds: [] };
  const footer = config.mail.footers[profile.pattern][profile.region];
  const text = formatNotifyMail(
    { calledNumber: call.calledNumber, inviteAt: t.inviteAt, callerNumber: call.caller.number, absentReason: call.caller.absentReason, ringSeconds: c.ringSeconds, status: c.status },
    profile.pattern,
    footer,
  );
  // A codec rejection may be followed by the standard-quality retry (高音質電話): hold its mails
  // for the window; the retry cancels them (supersedeCodecRejectedCalls).
  const delaySec = isCodecRejection(t.finalStatus) ? config.notify.codecRetryWindowSec : 0;
  const mailIds = await enqueueMails(
    client,
    decision.to.map((to) => ({
      kind: 'notify' as const, incomingCallId: id, to, from: footer.from, subject: text.subject, body: text.body,
      charset: config.mail.charset, delaySec, retryForSec: config.mail.retryForSec,
    })),
  );
  return { incomingCallId: id, decision, mailIds };
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
