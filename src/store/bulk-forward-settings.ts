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

/** 一括転送 of a contract as the settings pages show it: every number of the contract with its 転送先. */
export interface BulkForwardSettings extends BulkForwardState {
  contractId: string;
  /** Main number first, then the additional numbers in order. */
  numbers: { number: string; destination: string | null }[];
}

/** undefined when the contract does not subscribe bulk_forward. */
export async function readBulkForward(db: Queryable, contractId: string): Promise<BulkForwardSettings | undefined> {
  const { rows } = await db.query(
    `select s.started, s.started_by, s.started_at, s.version,
            coalesce((select json_agg(json_build_object('number', p.number, 'destination', d.destination) order by p.role desc, p.number)
                        from phone_number p left join bulk_forward_destination d on d.number = p.number
                       where p.contract_id = s.contract_id), '[]') as numbers
       from bulk_forward_setting s where s.contract_id = $1`,
    [contractId],
  );
  return rows[0] && { contractId, ...state(rows[0]), numbers: rows[0].numbers };
}

/**
 * Sets the 転送先 of the numbers given (null: none). Numbers not given keep theirs. The caller has
 * checked that each number is the contract's and each 転送先 obeys the rules.
 */
export async function writeBulkForwardDestinations(client: pg.PoolClient, contractId: string, rows: { number: string; destination: string | null }[], at: Date): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `with given as (select * from json_to_recordset($2::json) as g(number text, destination text)),
     gone as (delete from bulk_forward_destination d using given g where d.number = g.number and g.destination is null)
     insert into bulk_forward_destination (number, contract_id, destination)
     select g.number, $1, g.destination from given g where g.destination is not null
     on conflict (number) do update set contract_id = excluded.contract_id, destination = excluded.destination
       where (bulk_forward_destination.contract_id, bulk_forward_destination.destination) is distinct from (excluded.contract_id, excluded.destination)`,
    [contractId, JSON.stringify(rows)],
  );
  await client.query('update bulk_forward_setting set updated_at = $2 where contract_id = $1', [contractId, at]);
}
