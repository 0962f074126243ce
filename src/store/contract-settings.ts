// The one stale-form check of the contract-level settings (一括転送機能, 故障・回復通知機能): a save
// runs in a transaction holding the contract's settings row, after checking that the row is still
// at the version the form was drawn from.
import type pg from 'pg';
import { StaleFormError } from './notify-settings.ts';
import { withTransaction } from './transaction.ts';

/** The settings tables of a whole contract, each with contract_id and version. */
export type ContractSettingsTable = 'bulk_forward_setting' | 'failure_notice_setting';

/**
 * Runs `change` in a transaction holding the contract's row of `table` when its version is still
 * `expectedVersion` (StaleFormError otherwise, or when the contract does not subscribe the service).
 * Anything `change` throws rolls the whole form back.
 */
export async function changeContractSettings<T>(
  pool: pg.Pool,
  table: ContractSettingsTable,
  contractId: string,
  expectedVersion: number,
  change: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query(`select version from ${table} where contract_id = $1 for update`, [contractId]);
    if (!rows[0] || Number(rows[0].version) !== expectedVersion) throw new StaleFormError(`${table} of ${contractId} changed since the form was drawn`);
    return change(client);
  });
}
