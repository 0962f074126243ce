// The mail outbox's wake-up channel, and settling many sent mails in one statement: a sender records
// the SMTP 250s of a moment together instead of one UPDATE per mail.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/** NOTIFY channel: a commit that queued mails wakes every sender listening on it. */
export const MAIL_OUTBOX_CHANNEL = 'mail_outbox';

export interface SentMail {
  id: number;
  /** The claim's fencing token: only its holder may settle the row. */
  attempts: number;
  /** When the SMTP server accepted it (250). */
  sentAt: Date;
}

/** Marks mails sent; returns the ids whose claim had been lost meanwhile (lease expired and retaken). */
export async function markSentMany(db: Queryable, mails: SentMail[]): Promise<number[]> {
  if (mails.length === 0) return [];
  const { rows } = await db.query<{ id: number }>({
    name: 'mail_outbox_sent',
    text: `update mail_outbox m set state = 'sent', sent_at = s.sent_at, last_error = null
             from json_to_recordset($1::json) as s(id bigint, attempts integer, sent_at timestamptz)
            where m.id = s.id and m.attempts = s.attempts and m.state = 'pending'
           returning m.id`,
    values: [JSON.stringify(mails.map((m) => ({ id: m.id, attempts: m.attempts, sent_at: m.sentAt.toISOString() })))],
  });
  // Compared as numbers: a bigint id reaches us as a string unless the pool's type parser says otherwise.
  const settled = new Set(rows.map((r) => Number(r.id)));
  return mails.filter((m) => !settled.has(Number(m.id))).map((m) => m.id);
}
