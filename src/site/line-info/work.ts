// 工事: an accepted application takes effect when it is due (lineInfo.workDelayMin after 受付).
// Every instance runs this worker; a due row is claimed with a row lock that skips rows another instance holds, so each is
// done once, and the change, its 工事完了通知 mail (into the outbox) and its audit entry commit
// together — a crash before the commit leaves the row due for the next round.
import type pg from 'pg';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import type { Logger } from '../../logger.ts';
import { formatCompletionMail } from '../../mail/line-info-format.ts';
import { enqueueMails } from '../../mail/outbox.ts';
import { writeAudit } from '../../store/audit.ts';
import { claimDueWork, completeWork, postponeWork, providersById } from '../../store/line-info.ts';
import { withSavepoint, withTransaction } from '../../store/transaction.ts';

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
    const result = await withTransaction(pool, async (client) => {
      const now = clock.now();
      const due = await claimDueWork(client, now, BATCH);
      let done = 0;
      for (const a of due) {
        // One application that cannot be done (a bug, a constraint) must not hold back the others:
        // its own savepoint, and it is due again later.
        try {
          await withSavepoint(client, async () => {
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
          });
          done++;
        } catch (err) {
          await postponeWork(client, a.id, new Date(now.getTime() + RETRY_MS));
          log.error({ receiptNo: a.receiptNo, err: (err as Error).message }, 'line-info work item failed; due again later');
        }
      }
      return { claimed: due.length, done };
    });
    if (result.done) log.info({ done: result.done }, 'line-info work done');
    return result;
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
