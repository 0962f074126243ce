// Applies probe and call results to the lines, each under the line's row lock, and carries out a
// 故障 or 回復 in the same transaction: the line_event row, the 一括転送 automatic start or stop with
// its audit row, and the mails to the contract's 送信先 through the outbox. Whichever instance
// applies a result sees the state every instance committed, so each 故障 and 回復 happens — and is
// mailed — exactly once.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { SERVICE_ACTOR } from '../domain/failure-notice.ts';
import { afterResult, type HealthChange, type HealthRules } from '../domain/line-health.ts';
import { formatLineEventMail } from '../mail/line-event-format.ts';
import { enqueueMails } from '../mail/outbox.ts';
import { writeAudit } from '../store/audit.ts';
import { contractMainNumber } from '../store/subscribers.ts';
import { lockBulkForwardState, writeBulkForwardStarted } from '../store/bulk-forward-settings.ts';
import { readFailureNotice } from '../store/failure-notice-settings.ts';
import {
  insertLineEvent,
  lockLineOfNumber,
  lockLines,
  numbersOfLine,
  otherLinesDown,
  saveLines,
  type BulkForwardAction,
  type LineKey,
  type LineRow,
  type LineUpdate,
} from '../store/line-probes.ts';
import { withTransaction } from '../store/transaction.ts';

export type EventsConfig = Pick<Config, 'failureNotice' | 'mail'>;

/** One probe's outcome, from the instance holding the line's lease. */
export interface ProbeOutcome extends LineKey {
  /** A ProbeResult, or 'not_sent' (the probe could not go out: nothing is learnt about the line). */
  result: string;
  status: number | null;
  at: Date;
}

/** What a batch changed, for the log and the counters. */
export interface AppliedChange extends LineKey {
  change: HealthChange;
  at: Date;
  mails?: number;
  bulkForward?: BulkForwardAction;
}

function rulesOf(config: EventsConfig): HealthRules {
  const f = config.failureNotice;
  return { downAfter: f.downAfter, upAfter: f.upAfter, holdDownMs: f.holdDownSec * 1000 };
}

/**
 * The results of `holder`'s probes, in one transaction: lines it no longer holds (its lease was
 * taken over) are skipped; each held line's lease ends and its next probe is set.
 */
export async function applyProbeOutcomes(pool: pg.Pool, config: EventsConfig, holder: string, outcomes: ProbeOutcome[]): Promise<AppliedChange[]> {
  if (outcomes.length === 0) return [];
  return withTransaction(pool, async (client) => {
    const rows = new Map((await lockLines(client, outcomes)).map((r) => [`${r.contractId}\n${r.line}`, r]));
    const updates: LineUpdate[] = [];
    const changes: AppliedChange[] = [];
    for (const o of outcomes) {
      const row = rows.get(`${o.contractId}\n${o.line}`);
      if (!row || row.leaseHolder !== holder) continue;
      const probed = { holder, intervalSec: config.failureNotice.probeIntervalSec };
      if (o.result === 'not_sent') {
        updates.push({ ...o, health: row.health, stateChanged: false, status: null, probed });
        continue;
      }
      const applied = await applyResult(client, config, row, o.result as Parameters<typeof afterResult>[1], o.status, o.at, probed);
      if (applied.pending) updates.push(applied.pending);
      if (applied.change) changes.push(applied.change);
    }
    await saveLines(client, updates);
    return changes;
  });
}

/**
 * A call to `number` timed out or got 503 on its line: one failed probe at once, and a probe of
 * the line soon. Nothing happens when the number's line is not probed (no 故障・回復通知).
 */
export async function applyCallFailure(pool: pg.Pool, config: EventsConfig, number: string, status: number, at: Date): Promise<AppliedChange | undefined> {
  return withTransaction(pool, async (client) => {
    const row = await lockLineOfNumber(client, number);
    if (!row) return undefined;
    const applied = await applyResult(client, config, row, 'call_failed', status, at);
    if (applied.pending) await saveLines(client, [applied.pending]);
    return applied.change;
  });
}

/**
 * One result applied to a locked line. A 故障 or 回復 is written at once, before it is carried out,
 * so what it asks of the contract's other lines (one still 故障 keeps 一括転送 on) sees this line as
 * it is now, also when several lines of one contract change in one batch; any other result is
 * returned `pending`, for the caller to write with the rest of its batch.
 */
async function applyResult(
  client: pg.PoolClient,
  config: EventsConfig,
  row: LineRow,
  result: Parameters<typeof afterResult>[1],
  status: number | null,
  at: Date,
  probed?: LineUpdate['probed'],
): Promise<{ pending?: LineUpdate; change?: AppliedChange }> {
  const { health, change } = afterResult(row.health, result, at, rulesOf(config));
  const key = { contractId: row.contractId, line: row.line };
  const update: LineUpdate = { ...key, health, stateChanged: change === 'down' || change === 'up' || change === 'seen', result, status, at, ...(probed ? { probed } : {}) };
  row.health = health; // a later result for the same line in this batch starts from here
  if (change !== 'down' && change !== 'up') return { pending: update, change: change && { ...key, change, at } };
  await saveLines(client, [update]);
  const done = await declare(client, config, key, change, result, at);
  return { change: { ...key, change, at, ...done } };
}

/** 故障 or 回復: the event row, 一括転送 started or stopped as set, the mails. */
async function declare(
  client: pg.PoolClient,
  config: EventsConfig,
  key: LineKey,
  kind: 'down' | 'up',
  cause: string,
  at: Date,
): Promise<{ mails: number; bulkForward: BulkForwardAction }> {
  const notice = await readFailureNotice(client, key.contractId);
  const numbers = await numbersOfLine(client, key);
  const bulkForward = notice ? await automaticBulkForward(client, key, kind, notice, at) : 'none';
  const to = notice?.started ? notice.destinations.filter((d) => d.send).map((d) => d.address) : [];
  if (notice && to.length) {
    const footer = config.mail.footers[notice.pattern][notice.region];
    const text = formatLineEventMail(
      { kind, at, contractorName: notice.contractorName, siteInfo: notice.siteInfo, numbers, bulkForward },
      notice.pattern,
      footer,
    );
    await enqueueMails(
      client,
      to.map((address) => ({
        kind: 'notice' as const, incomingCallId: null, to: address, from: footer.from, subject: text.subject, body: text.body,
        charset: config.mail.charset, retryForSec: config.mail.retryForSec,
      })),
    );
  }
  await insertLineEvent(client, { ...key, kind, at, numbers, bulkForward, cause, mails: to.length });
  return { mails: to.length, bulkForward };
}

/**
 * 一括転送自動開始 on 故障; 一括転送自動停止 on 回復 — only what the service started itself (a
 * subscriber's or operator's 一括転送 is theirs to stop), and only once no line of the contract is
 * 故障 any more (一括転送 is the contract's, one dead line of two still needs it).
 */
async function automaticBulkForward(
  client: pg.PoolClient,
  key: LineKey,
  kind: 'down' | 'up',
  notice: { autoStartBulkForward: boolean; autoStopBulkForward: boolean },
  at: Date,
): Promise<BulkForwardAction> {
  const bulk = await lockBulkForwardState(client, key.contractId);
  if (!bulk) return 'none';
  if (kind === 'down') {
    if (bulk.started) return 'kept';
    if (!notice.autoStartBulkForward) return 'none';
    await writeBulkForwardStarted(client, key.contractId, true, 'service', at);
    await auditBulkForward(client, key, 'bulk_forward.start', at);
    return 'started';
  }
  if (!bulk.started) return 'none';
  if (!notice.autoStopBulkForward || bulk.startedBy !== 'service' || (await otherLinesDown(client, key))) return 'kept';
  await writeBulkForwardStarted(client, key.contractId, false, 'service', at);
  await auditBulkForward(client, key, 'bulk_forward.stop', at);
  return 'stopped';
}

async function auditBulkForward(client: pg.PoolClient, key: LineKey, action: string, at: Date): Promise<void> {
  await writeAudit(client, {
    actor: SERVICE_ACTOR, action, subject: await contractMainNumber(client, key.contractId), at,
    detail: { contract: key.contractId, line: key.line, cause: action.endsWith('start') ? '故障' : '回復', automatic: true },
  });
}
