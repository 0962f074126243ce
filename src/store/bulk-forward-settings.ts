// 一括転送機能 settings of one contract (bulk_forward_setting, bulk_forward_destination).
import type pg from 'pg';
import type { BulkForwardStarter } from '../domain/failure-notice.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface BulkForwardState {
  started: boolean;
  /** Who started it (null while stopped). */
  startedBy: BulkForwardStarter | null;
  startedAt: Date | null;
  version: number;
}

function state(r: { started: boolean; started_by: BulkForwardStarter | null; started_at: Date | null; version: string | number }): BulkForwardState {
  return { started: r.started, startedBy: r.started_by, startedAt: r.started_at, version: Number(r.version) };
}

/** Started or not, and by whom; undefined when the contract does not subscribe bulk_forward. */
export async function readBulkForwardState(db: Queryable, contractId: string): Promise<BulkForwardState | undefined> {
  const { rows } = await db.query('select started, started_by, started_at, version from bulk_forward_setting where contract_id = $1', [contractId]);
  return rows[0] && state(rows[0]);
}

/** The same, with the row locked for the rest of the transaction. */
export async function lockBulkForwardState(client: pg.PoolClient, contractId: string): Promise<BulkForwardState | undefined> {
  const { rows } = await client.query('select started, started_by, started_at, version from bulk_forward_setting where contract_id = $1 for update', [contractId]);
  return rows[0] && state(rows[0]);
}

/** 開始 (by whom) or 停止. */
export async function writeBulkForwardStarted(client: pg.PoolClient, contractId: string, started: boolean, by: BulkForwardStarter, at: Date): Promise<void> {
  await client.query(
    `update bulk_forward_setting set started = $2, started_by = case when $2 then $3 end, started_at = case when $2 then $4::timestamptz end, updated_at = $4
      where contract_id = $1`,
    [contractId, started, by, at],
  );
}
