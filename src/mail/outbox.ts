// The mail outbox (table mail_outbox): mails are written in the same transaction as what they
// report, and delivered later by workers. Any number of workers in any number of processes
// share it: a claim is a row lock taken with SKIP LOCKED, and the claim itself is a lease —
// next_attempt_at is pushed past the lease, so a crashed worker's rows come due again.
// `attempts` doubles as a fencing token: only the holder of the latest claim may settle a row.
import type pg from 'pg';
import { MAIL_OUTBOX_CHANNEL } from '../store/mail-outbox.ts';

export interface NewMail {
  kind: 'notify' | 'test' | 'notice';
  incomingCallId: number | null;
  to: string;
  from: string;
  subject: string;
  body: string;
  charset: 'utf-8' | 'iso-2022-jp';
  /** Seconds the mail must wait before its first attempt (高音質電話 retry window). */
  delaySec?: number;
  retryForSec: number;
}

export interface OutboxRow {
  id: number;
  kind: 'notify' | 'test' | 'notice';
  incoming_call_id: number | null;
  to_address: string;
  from_address: string;
  subject: string;
  body: string;
  charset: 'utf-8' | 'iso-2022-jp';
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  give_up_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  /** The FAX reception's PDF goes with it (FAXお知らせメール with fax.attachPdf). */
  attach_pdf: boolean;
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Inserts mails (one call never gets two mails to one address: conflicts are skipped) and wakes
 * the workers when the surrounding transaction commits. Returns the ids inserted.
 */
export async function enqueueMails(db: Queryable, mails: NewMail[]): Promise<number[]> {
  if (mails.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    `insert into mail_outbox (kind, incoming_call_id, to_address, from_address, subject, body, charset, next_attempt_at, give_up_at)
     select m.kind, m.incoming_call_id, m.to_address, m.from_address, m.subject, m.body, m.charset,
            now() + make_interval(secs => m.delay_sec), now() + make_interval(secs => m.delay_sec + m.retry_for_sec)
       from json_to_recordset($1::json) as m(kind text, incoming_call_id bigint, to_address text, from_address text,
            subject text, body text, charset text, delay_sec float8, retry_for_sec float8)
     on conflict (incoming_call_id, to_address) do nothing
     returning id`,
    [
      JSON.stringify(
        mails.map((m) => ({
          kind: m.kind, incoming_call_id: m.incomingCallId, to_address: m.to, from_address: m.from, subject: m.subject,
          body: m.body, charset: m.charset, delay_sec: m.delaySec ?? 0, retry_for_sec: m.retryForSec,
        })),
      ),
    ],
  );
  await db.query('select pg_notify($1, $2)', [MAIL_OUTBOX_CHANNEL, '']);
  return rows.map((r) => r.id);
}

/** Claims up to `limit` due mails (or the one given by id) for `leaseSec` seconds. */
export async function claimDue(db: Queryable, opts: { limit: number; leaseSec: number; id?: number }): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `with due as (
       select id from mail_outbox
        where state = 'pending' and next_attempt_at <= now() and ($3::bigint is null or id = $3)
        order by next_attempt_at
        limit $1
        for update skip locked)
     update mail_outbox m set attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       from due where m.id = due.id
     returning m.*`,
    [opts.limit, opts.leaseSec, opts.id ?? null],
  );
  return rows;
}

/** Settles a claimed row; false when the claim was lost (lease expired and retaken). */
export async function markSent(db: Queryable, row: OutboxRow): Promise<boolean> {
  const r = await db.query(
    `update mail_outbox set state = 'sent', sent_at = now(), last_error = null
      where id = $1 and attempts = $2 and state = 'pending'`,
    [row.id, row.attempts],
  );
  return r.rowCount === 1;
}

export async function markFailed(db: Queryable, row: OutboxRow, error: string): Promise<boolean> {
  const r = await db.query(
    `update mail_outbox set state = 'failed', last_error = $3 where id = $1 and attempts = $2 and state = 'pending'`,
    [row.id, row.attempts, error],
  );
  return r.rowCount === 1;
}

/** Schedules another attempt, or gives up when it would fall after give_up_at. Returns the new state. */
export async function markRetry(db: Queryable, row: OutboxRow, error: string, delayMs: number): Promise<'pending' | 'failed'> {
  const { rows } = await db.query<{ state: 'pending' | 'failed' }>(
    `update mail_outbox
        set state = case when now() + make_interval(secs => $3) > give_up_at then 'failed' else 'pending' end,
            next_attempt_at = now() + make_interval(secs => $3),
            last_error = case when now() + make_interval(secs => $3) > give_up_at
                              then 'gave up after ' || attempts || ' attempts: ' || $4 else $4 end
      where id = $1 and attempts = $2 and state = 'pending'
      returning state`,
    [row.id, row.attempts, delayMs / 1000, error],
  );
  return rows[0]?.state ?? 'pending';
}

export async function listOutbox(db: Queryable, opts: { state?: OutboxRow['state']; limit: number }): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `select * from mail_outbox where ($1::text is null or state = $1) order by created_at desc, id desc limit $2`,
    [opts.state ?? null, opts.limit],
  );
  return rows;
}

export async function getOutboxRow(db: Queryable, id: number): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>('select * from mail_outbox where id = $1', [id]);
  return rows[0];
}
