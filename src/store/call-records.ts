// 着信 records (incoming_call) with their mails (mail_outbox), written for many calls in one statement:
// each call's row, its mails only when the row is new (a call saved twice changes nothing), its call
// journal row removed, and the mail senders woken — all or nothing, one round trip, one commit.
import type pg from 'pg';
import { MAIL_OUTBOX_CHANNEL } from './mail-outbox.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** One mail of a call, JSON-ready. */
export interface CallMailRow {
  kind: 'notify';
  to_address: string;
  from_address: string;
  subject: string;
  body: string;
  charset: string;
  delay_sec: number;
  retry_for_sec: number;
}

/** One incoming_call row, JSON-ready (dates as ISO strings). */
export interface CallRecordRow {
  call_id: string;
  called_number: string;
  caller_number: string | null;
  absent_reason: string | null;
  invite_at: string;
  ring_at: string | null;
  answer_at: string | null;
  end_at: string;
  final_status: number | null;
  status: string | null;
  ring_seconds: number | null;
  refused_by: string | null;
  end_reason: string | null;
  mails: CallMailRow[];
}

export interface InsertedCall {
  /** null when the call was already recorded. */
  incomingCallId: number | null;
  mailIds: number[];
}

/** Records the calls; the result is in the order given. */
export async function insertCallRecords(db: Queryable, calls: CallRecordRow[]): Promise<InsertedCall[]> {
  if (calls.length === 0) return [];
  const { rows } = await db.query<{ i: number; id: number; mail_ids: number[] }>({
    name: 'call_records_insert',
    text: `with input as (
             select (row_number() over ()) as i, r.*
               from json_to_recordset($1::json) as r(call_id text, called_number text, caller_number text, absent_reason text,
                    invite_at timestamptz, ring_at timestamptz, answer_at timestamptz, end_at timestamptz, final_status integer,
                    status text, ring_seconds integer, refused_by text, end_reason text, mails json)),
           ins as (
             insert into incoming_call (call_id, called_number, caller_number, absent_reason, invite_at, ring_at, answer_at,
                                        end_at, final_status, status, ring_seconds, refused_by, end_reason)
             select call_id, called_number, caller_number, absent_reason, invite_at, ring_at, answer_at,
                    end_at, final_status, status, ring_seconds, refused_by, end_reason from input order by i
             on conflict (call_id, called_number) do nothing
             returning id, call_id, called_number),
           journal as (
             delete from call_journal j using input
              where j.call_id = input.call_id and j.called_number = input.called_number),
           mails as (
             insert into mail_outbox (kind, incoming_call_id, to_address, from_address, subject, body, charset, next_attempt_at, give_up_at)
             select m.kind, ins.id, m.to_address, m.from_address, m.subject, m.body, m.charset,
                    now() + make_interval(secs => m.delay_sec), now() + make_interval(secs => m.delay_sec + m.retry_for_sec)
               from ins join input using (call_id, called_number)
                    cross join lateral json_to_recordset(input.mails) as m(kind text, to_address text, from_address text, subject text,
                                                                      body text, charset text, delay_sec float8, retry_for_sec float8)
             on conflict (incoming_call_id, to_address) do nothing
             returning id, incoming_call_id),
           woken as (select pg_notify('${MAIL_OUTBOX_CHANNEL}', '') from (select 1 from mails limit 1) any_mail)
           select input.i, ins.id,
                  coalesce((select array_agg(m.id order by m.id) from mails m where m.incoming_call_id = ins.id), '{}') as mail_ids
             from input join ins using (call_id, called_number)
            where (select count(*) from woken) >= 0`,
    values: [JSON.stringify(calls)],
  });
  const out: InsertedCall[] = calls.map(() => ({ incomingCallId: null, mailIds: [] }));
  for (const r of rows) out[Number(r.i) - 1] = { incomingCallId: r.id, mailIds: r.mail_ids.map(Number) };
  return out;
}
