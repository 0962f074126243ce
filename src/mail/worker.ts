// Delivers the outbox. Wakes on NOTIFY from enqueueMails (low latency) and polls as a fallback
// (delayed mails, retries, leases of crashed workers). Runs entirely off the SIP path.
import pg from 'pg';
import type { Logger } from 'pino';
import { claimDue, markFailed, markRetry, markSent, NOTIFY_CHANNEL, type OutboxRow } from './outbox.ts';
import { describeSmtpError, isPermanent, sendOutboxMail, type MailAttachment, type Transporter } from './transport.ts';
import { faxMailAttachment } from '../store/fax.ts';

export interface MailWorkerOptions {
  pool: pg.Pool;
  /** A connection string for the LISTEN connection; without it the worker only polls. */
  listenUrl?: string;
  transport: Transporter;
  logger: Logger;
  /** Mails in flight at once in this process. */
  concurrency: number;
  /** A claim outlives any single SMTP attempt (nodemailer timeouts are well below it). */
  leaseSec?: number;
  pollMs?: number;
  /** Retry delay after the n-th failed attempt: baseMs · 2^(n-1), at most maxMs. */
  backoff?: { baseMs: number; maxMs: number };
}

export interface MailWorker {
  /** Look for due mails now. */
  wake(): void;
  /** Stops claiming, lets in-flight sends finish and settle. */
  stop(): Promise<void>;
}

export function backoffDelay(attempt: number, backoff: { baseMs: number; maxMs: number }): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
}

export function startMailWorker(opts: MailWorkerOptions): MailWorker {
  const leaseSec = opts.leaseSec ?? 120;
  const pollMs = opts.pollMs ?? 1000;
  const backoff = opts.backoff ?? { baseMs: 5_000, maxMs: 600_000 };
  const log = opts.logger.child({ part: 'mail-worker' });
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  let listener: pg.Client | undefined;

  const wake = () => {
    pendingWake = true;
    wakeUp?.();
  };

  /** The FAX's PDF, read when the mail goes (a reception deleted by then: the mail goes without it). */
  async function attachmentOf(row: OutboxRow): Promise<MailAttachment | undefined> {
    if (!row.attach_pdf) return undefined;
    const a = await faxMailAttachment(opts.pool, row.id);
    return a && { filename: a.filename, content: a.pdf, contentType: 'application/pdf' };
  }

  async function settle(row: OutboxRow): Promise<void> {
    try {
      await sendOutboxMail(opts.transport, row, await attachmentOf(row));
    } catch (err) {
      const why = describeSmtpError(err);
      if (isPermanent(err)) {
        await markFailed(opts.pool, row, why);
        log.warn({ id: row.id, attempts: row.attempts, error: why }, 'mail refused by SMTP server; not retried');
        return;
      }
      const state = await markRetry(opts.pool, row, why, backoffDelay(row.attempts, backoff));
      if (state === 'failed') log.error({ id: row.id, attempts: row.attempts, error: why }, 'mail given up after retrying');
      else log.info({ id: row.id, attempts: row.attempts, error: why }, 'mail delivery failed; will retry');
      return;
    }
    if (!(await markSent(opts.pool, row))) log.warn({ id: row.id }, 'mail sent after its claim was retaken');
    else log.debug({ id: row.id }, 'mail sent');
  }

  function launch(row: OutboxRow) {
    const p = settle(row)
      .catch((err) => log.error({ id: row.id, err: (err as Error).message }, 'could not record mail outcome; the lease will retry it'))
      .finally(() => {
        inFlight.delete(p);
        wake();
      });
    inFlight.add(p);
  }

  async function listen() {
    if (!opts.listenUrl || !running) return;
    const client = new pg.Client({ connectionString: opts.listenUrl });
    client.on('notification', wake);
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'outbox LISTEN connection lost; polling until it is back');
      if (listener === client) listener = undefined;
      client.end().catch(() => undefined);
      setTimeout(() => void listen(), pollMs).unref();
    });
    try {
      await client.connect();
      await client.query(`listen ${NOTIFY_CHANNEL}`);
      if (!running) {
        await client.end();
        return;
      }
      listener = client;
      wake();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot LISTEN for outbox; polling');
      client.end().catch(() => undefined);
      setTimeout(() => void listen(), pollMs * 5).unref();
    }
  }

  async function loop() {
    while (running) {
      pendingWake = false;
      const room = opts.concurrency - inFlight.size;
      if (room > 0) {
        try {
          const rows = await claimDue(opts.pool, { limit: room, leaseSec });
          for (const row of rows) launch(row);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'cannot claim mails; retrying');
        }
      }
      if (!running) break;
      // Full, or nothing more due: sleep until woken (NOTIFY, a send finishing) or the poll comes round.
      if (pendingWake) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  void listen();
  const looping = loop();
  return {
    wake,
    async stop() {
      running = false;
      wake();
      await looping;
      await Promise.all([...inFlight]);
      const l = listener;
      listener = undefined;
      await l?.end().catch(() => undefined);
    },
  };
}
