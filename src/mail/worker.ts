// Delivers the outbox. Wakes on NOTIFY from enqueueMails (low latency) and polls as a fallback
// (delayed mails, retries, leases of crashed workers). Runs entirely off the SIP path. Claims come in
// batches (SKIP LOCKED, as many as there is room for); sends go out on pooled SMTP connections; the
// 250s of a moment are settled together, one statement for all of them.
import pg from 'pg';
import type { Logger } from 'pino';
import { batchWindow } from '../batch-window.ts';
import { faxMailAttachment } from '../store/fax.ts';
import { MAIL_OUTBOX_CHANNEL, markSentMany, type SentMail } from '../store/mail-outbox.ts';
import { claimDue, markFailed, markRetry, type OutboxRow } from './outbox.ts';
import { describeSmtpError, isPermanent, sendOutboxMail, type MailAttachment, type Transporter } from './transport.ts';

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
  /** How long a claim or a settlement waits for more mails to go in the same statement (database.batchWindowMs). */
  batchWindowMs?: number;
}

export interface MailWorker {
  /** Look for due mails now. */
  wake(): void;
  /** Stops claiming, lets in-flight sends finish and settle. */
  stop(): Promise<void>;
}

/** How long stop() keeps trying to record mails already sent. */
const STOP_SETTLE_MS = 5_000;

export function backoffDelay(attempt: number, backoff: { baseMs: number; maxMs: number }): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
}

export function startMailWorker(opts: MailWorkerOptions): MailWorker {
  const leaseSec = opts.leaseSec ?? 120;
  const pollMs = opts.pollMs ?? 1000;
  const backoff = opts.backoff ?? { baseMs: 5_000, maxMs: 600_000 };
  const windowMs = opts.batchWindowMs ?? 0;
  const log = opts.logger.child({ part: 'mail-worker' });
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  /** New mails were announced (NOTIFY): worth waiting a moment for the rest of their batch. */
  let announced = false;
  let listener: pg.Client | undefined;

  const wake = () => {
    pendingWake = true;
    wakeUp?.();
  };

  /** Sent mails waiting to be settled, each with the resolver of its launch. */
  let sent: { mail: SentMail; done: () => void }[] = [];
  /** Sent mails not yet recorded as sent (stop() waits for them). */
  const unsettled = new Set<Promise<void>>();
  let settling: Promise<void> | undefined;
  let settleRetry: NodeJS.Timeout | undefined;

  /** Settles every sent mail of the moment in one statement; one statement at a time. */
  function settleSent(): void {
    if (settling || !sent.length) return;
    let batch: typeof sent = [];
    settling = batchWindow(windowMs)
      .then(() => {
        batch = sent;
        sent = [];
        return markSentMany(opts.pool, batch.map((b) => b.mail));
      })
      .then((lost) => {
        for (const id of lost) log.warn({ id }, 'mail sent after its claim was retaken');
        for (const b of batch) b.done();
      }, (err: Error) => {
        // Kept and tried again: until settled, the claim's lease keeps the row from being sent twice.
        log.warn({ err: err.message, mails: batch.length }, 'cannot record sent mails; retrying');
        sent = [...batch, ...sent];
        settleRetry ??= setTimeout(() => { settleRetry = undefined; settleSent(); }, pollMs);
      })
      .finally(() => {
        settling = undefined;
        if (!settleRetry) settleSent();
      });
  }

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
    // The connection is free for the next mail now; the 250 is recorded with those of the moment.
    const recorded = new Promise<void>((done) => sent.push({ mail: { id: row.id, attempts: row.attempts, sentAt: new Date() }, done }));
    unsettled.add(recorded);
    void recorded.then(() => unsettled.delete(recorded));
    settleSent();
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
    client.on('notification', () => {
      announced = true;
      wake();
    });
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'outbox LISTEN connection lost; polling until it is back');
      if (listener === client) listener = undefined;
      client.end().catch(() => undefined);
      setTimeout(() => void listen(), pollMs).unref();
    });
    try {
      await client.connect();
      await client.query(`listen ${MAIL_OUTBOX_CHANNEL}`);
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
      // Claims go in batches: with sends in flight, only once half the room is free again (not one
      // claim per finished send); with none in flight, at once.
      const room = opts.concurrency - inFlight.size;
      if (room > 0 && (inFlight.size === 0 || room >= Math.ceil(opts.concurrency / 2))) {
        try {
          const rows = await claimDue(opts.pool, { limit: room, leaseSec });
          for (const row of rows) launch(row);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'cannot claim mails; retrying');
        }
      }
      if (!running) break;
      // Full, or nothing more due: sleep until woken (NOTIFY, a send finishing) or the poll comes round;
      // when new mails were announced, let the rest of that moment's mails come, to claim them together.
      if (!pendingWake) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeUp = undefined;
      }
      if (running && announced) {
        announced = false;
        await batchWindow(windowMs);
      }
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
      // Sends in flight finish and are settled; a database still gone after a few seconds leaves them
      // to their leases (such a mail may then go out twice, with the same Message-ID).
      const stopRetrying = setTimeout(() => { for (const b of sent.splice(0)) b.done(); }, STOP_SETTLE_MS);
      await Promise.all([...inFlight]);
      await Promise.all([...unsettled]);
      clearTimeout(stopRetrying);
      clearTimeout(settleRetry);
      const l = listener;
      listener = undefined;
      await l?.end().catch(() => undefined);
    },
  };
}
