// 送信テスト: one mail to one address, for the CLI now and the settings site later.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { mailAddressProblem } from '../domain/mail-address.ts';
import type { Pattern, Region } from '../domain/subscriber.ts';
import { formatTestMail } from './format.ts';
import { claimDue, enqueueMails, getOutboxRow, markFailed, markRetry, markSent, type OutboxRow } from './outbox.ts';
import { describeSmtpError, isPermanent, sendOutboxMail, type Transporter } from './transport.ts';

export class TestMailError extends Error {
  override name = 'TestMailError';
}

/** Queues a 送信テスト mail for `number` to `address`. Returns the outbox id. */
export async function queueTestMail(pool: pg.Pool | pg.PoolClient, config: Pick<Config, 'mail'>, number: string, address: string, now = new Date()): Promise<number> {
  const problem = mailAddressProblem(address);
  if (problem) throw new TestMailError(`mail address ${problem}`);
  const { rows } = await pool.query<{ region: Region; pattern: Pattern; services: string[] }>(
    'select c.region, c.pattern, p.services from phone_number p join contract c on c.id = p.contract_id where p.number = $1',
    [number],
  );
  const r = rows[0];
  if (!r) throw new TestMailError(`${number} is not a provisioned number`);
  if (!r.services.includes('chakushin_mail')) throw new TestMailError(`${number} does not subscribe 着信お知らせメール`);
  const footer = config.mail.footers[r.pattern][r.region];
  const text = formatTestMail(number, r.pattern, footer, now);
  const [id] = await enqueueMails(pool, [
    { kind: 'test', incomingCallId: null, to: address, from: footer.from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec },
  ]);
  return id!;
}

/**
 * Tries to deliver one queued mail now, as the person pressing 送信テスト waits for the result.
 * If a running worker holds it, waits (up to timeoutMs) for that worker's outcome.
 */
export async function deliverNow(pool: pg.Pool, transport: Transporter, id: number, timeoutMs = 30_000): Promise<OutboxRow> {
  const [row] = await claimDue(pool, { limit: 1, leaseSec: 120, id });
  if (row) {
    try {
      await sendOutboxMail(transport, row);
      await markSent(pool, row);
    } catch (err) {
      if (isPermanent(err)) await markFailed(pool, row, describeSmtpError(err));
      else await markRetry(pool, row, describeSmtpError(err), 5_000);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await getOutboxRow(pool, id);
    if (!now) throw new TestMailError(`outbox row ${id} disappeared`);
    if (now.state !== 'pending' || row || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 200));
  }
}
