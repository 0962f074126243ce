// 工事: an accepted application takes effect when it is due (lineInfo.workDelayMin after 受付).
// Every instance runs this worker; a due row is taken with FOR UPDATE SKIP LOCKED, so each is
// done once, and the change, its 工事完了通知 mail (into the outbox) and its audit entry commit
// together — a crash before the commit leaves the row due for the next round.
import type pg from 'pg';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import type { Logger } from '../../logger.ts';
import { formatCompletionMail } from '../../mail/line-info-format.ts';
import { enqueueMails } from '../../mail/outbox.ts';
import { writeAudit } from '../../store/audit.ts';
import { claimDueWork, completeWork, providersById } from '../../store/line-info.ts';

const BATCH = 20;
const RETRY_MS = 10 * 60_000;

export interface LineInfoWorker {
  /** Does every due application now; returns how many. */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

export function startLineInfoWorker(deps: { pool: pg.Pool; config: Config; clock: Clock; logger: Logger }): LineInfoWorker {
  const { pool, config, clock } = deps;
  const log = deps.logger.child({ part: 'line-info-work' });

  async function batch(): Promise<{ claimed: number; done: number }> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const now = clock.now();
      const due = await claimDueWork(client, now, BATCH);
      let done = 0;
      for (const a of due) {
        // One application that cannot be done (a bug, a constraint) must not hold back the others:
        // its own savepoint, and it is due again later.
        await client.query('savepoint work_item');
        try {
          await completeWork(client, a, now);
          if (a.applicant.completionMail && a.applicant.mail) {
            const names = await providersById(client, a.providerIds);
            const text = formatCompletionMail(
              {
                receiptNo: a.receiptNo, customerId: a.customerId, applicantName: a.applicant.name, acceptedAt: a.acceptedAt, doneAt: now, setting: a.setting,
                providers: a.providerIds.map((id) => ({ id, serviceName: names.get(id)?.serviceName ?? id, name: names.get(id)?.name ?? id })),
              },
              config.lineInfo.mail,
            );
            await enqueueMails(client, [
              { kind: 'notice', incomingCallId: null, to: a.applicant.mail, from: config.lineInfo.mail.from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec },
            ]);
          }
          await writeAudit(client, {
            actor: 'line-info-work', action: 'line_info.work_done', subject: a.customerId,
            detail: { receiptNo: a.receiptNo, setting: a.setting, providers: a.providerIds, mail: a.applicant.completionMail }, at: now,
          });
          await client.query('release savepoint work_item');
          done++;
        } catch (err) {
          await client.query('rollback to savepoint work_item');
          await client.query('update line_info_application set due_at = $2 where id = $1', [a.id, new Date(now.getTime() + RETRY_MS)]);
          log.error({ receiptNo: a.receiptNo, err: (err as Error).message }, 'line-info work item failed; due again later');
        }
      }
      await client.query('commit');
      if (done) log.info({ done }, 'line-info work done');
      return { claimed: due.length, done };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  // Rounds in this process run one after another; a call always gets a round that starts after it.
  let last: Promise<unknown> = Promise.resolve();
  const runDue = (): Promise<number> => {
    const round = last.catch(() => undefined).then(async () => {
      let total = 0;
      for (let claimed = BATCH; claimed === BATCH; ) {
        const r = await batch();
        claimed = r.claimed;
        total += r.done;
      }
      return total;
    });
    last = round;
    return round;
  };

  const timer = setInterval(() => {
    runDue().catch((err) => log.error({ err: (err as Error).message }, 'line-info work round failed; retried next round'));
  }, config.lineInfo.workPollSec * 1000);
  timer.unref();

  return {
    runDue,
    async stop() {
      clearInterval(timer);
      await last.catch(() => undefined);
    },
  };
}
