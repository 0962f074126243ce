// 故障・回復通知機能 settings of one contract (failure_notice_setting, failure_notice_destination).
import type pg from 'pg';
import type { FailureNoticeSettings } from '../domain/failure-notice.ts';
import type { Pattern, Region } from '../domain/subscriber.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface StoredFailureNotice extends FailureNoticeSettings {
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
            coalesce((select json_agg(json_build_object('address', d.address, 'send', d.send) order by d.position)
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
