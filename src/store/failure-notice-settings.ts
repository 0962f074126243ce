// 故障・回復通知機能 settings of one contract (failure_notice_setting, failure_notice_destination).
import type pg from 'pg';
import type { FailureNoticeSettings } from '../domain/failure-notice.ts';
import type { Pattern, Region } from '../domain/subscriber.ts';
import { syncContractLines } from './line-probes.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface StoredFailureNotice extends FailureNoticeSettings {
  destinations: { position: number; address: string; send: boolean }[];
  contractId: string;
  region: Region;
  pattern: Pattern;
  /** Stale-form check: bumped on every change. */
  version: number;
}

/** The contract's 故障・回復通知 settings; undefined when it does not subscribe failure_notice. */
export async function readFailureNotice(db: Queryable, contractId: string): Promise<StoredFailureNotice | undefined> {
  const { rows } = await db.query(
    `select f.started, f.contractor_name, f.site_info, f.auto_start_bulk_forward, f.auto_stop_bulk_forward, f.version, c.region, c.pattern,
            coalesce((select json_agg(json_build_object('position', d.position, 'address', d.address, 'send', d.send) order by d.position)
                        from failure_notice_destination d where d.contract_id = f.contract_id), '[]') as destinations
       from failure_notice_setting f join contract c on c.id = f.contract_id
      where f.contract_id = $1`,
    [contractId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    contractId, region: r.region, pattern: r.pattern, version: Number(r.version),
    started: r.started, contractorName: r.contractor_name, siteInfo: r.site_info, destinations: r.destinations,
    autoStartBulkForward: r.auto_start_bulk_forward, autoStopBulkForward: r.auto_stop_bulk_forward,
  };
}

/** サービス開始／停止: the contract's lines are probed from now on, or no longer. */
export async function writeFailureNoticeStarted(client: pg.PoolClient, contractId: string, started: boolean, at: Date): Promise<void> {
  await client.query('update failure_notice_setting set started = $2, updated_at = $3 where contract_id = $1', [contractId, started, at]);
  await syncContractLines(client, contractId);
}

/** 送信メール内容設定 (checked by the caller with the domain's mailTextRefusal). */
export async function writeFailureNoticeMailText(client: pg.PoolClient, contractId: string, t: { contractorName: string; siteInfo: string }, at: Date): Promise<void> {
  await client.query('update failure_notice_setting set contractor_name = $2, site_info = $3, updated_at = $4 where contract_id = $1', [
    contractId, t.contractorName, t.siteInfo, at,
  ]);
}

/** 一括転送自動開始／自動停止設定. */
export async function writeFailureNoticeAutomatic(client: pg.PoolClient, contractId: string, a: { autoStartBulkForward: boolean; autoStopBulkForward: boolean }, at: Date): Promise<void> {
  await client.query('update failure_notice_setting set auto_start_bulk_forward = $2, auto_stop_bulk_forward = $3, updated_at = $4 where contract_id = $1', [
    contractId, a.autoStartBulkForward, a.autoStopBulkForward, at,
  ]);
}

/** 送信先メールアドレス: the rows in order (at most 5; checked by the caller with the site's address rule). */
export async function writeFailureNoticeDestinations(client: pg.PoolClient, contractId: string, rows: { address: string; send: boolean }[], at: Date): Promise<void> {
  await client.query('delete from failure_notice_destination where contract_id = $1', [contractId]);
  await client.query(
    `insert into failure_notice_destination (contract_id, position, address, send)
     select $1, d.position, d.address, d.send from json_to_recordset($2::json) as d(position int, address text, send boolean)`,
    [contractId, JSON.stringify(rows.map((r, i) => ({ ...r, position: i + 1 })))],
  );
  await client.query('update failure_notice_setting set updated_at = $2 where contract_id = $1', [contractId, at]);
}
