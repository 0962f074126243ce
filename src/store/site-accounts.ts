// Settings-site accounts: who a login number is, its temp password and password (realm 'site'),
// and the failure counters. Counters and locks change in single UPDATEs, so concurrent wrong
// logins each count.
import type pg from 'pg';
import type { AuthUnit, ContractNumber, Pattern, Region } from '../domain/subscriber.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface SiteAccount extends ContractNumber {
  contractId: string;
  region: Region;
  pattern: Pattern;
  /** The contract's 認証単位 now. */
  authUnit: AuthUnit;
  /** Every number of the contract, main first. */
  contract: ContractNumber[];
  temp?: { hash: string; authUnit: AuthUnit | null; createdAt: Date; expiresAt: Date; failedAttempts: number; usedAt: Date | null };
  password?: { hash: string; setAt: Date; failedAttempts: number; lockedAt: Date | null };
}

export async function loadSiteAccount(db: Queryable, number: string): Promise<SiteAccount | undefined> {
  const { rows } = await db.query({
    name: 'site_load_account',
    text: `select p.number, p.role, p.services, c.id as contract_id, c.region, c.pattern, c.auth_unit,
            t.hash as t_hash, t.auth_unit as t_unit, t.created_at as t_created, t.expires_at as t_expires, t.failed_attempts as t_failed, t.used_at as t_used,
            w.hash as w_hash, w.set_at as w_set, w.failed_attempts as w_failed, w.locked_at as w_locked,
            (select json_agg(json_build_object('number', o.number, 'role', o.role, 'services', o.services) order by o.role desc, o.number)
               from phone_number o where o.contract_id = p.contract_id) as contract
       from phone_number p join contract c on c.id = p.contract_id
       left join temp_password t on t.login_number = p.number and t.realm = 'site'
       left join password w on w.login_number = p.number and w.realm = 'site'
      where p.number = $1`,
    values: [number],
  });
  const r = rows[0];
  if (!r) return undefined;
  return {
    number: r.number,
    role: r.role,
    services: r.services,
    contractId: r.contract_id,
    region: r.region,
    pattern: r.pattern,
    authUnit: r.auth_unit,
    contract: r.contract,
    temp: r.t_hash ? { hash: r.t_hash, authUnit: r.t_unit, createdAt: r.t_created, expiresAt: r.t_expires, failedAttempts: r.t_failed, usedAt: r.t_used } : undefined,
    password: r.w_hash ? { hash: r.w_hash, setAt: r.w_set, failedAttempts: r.w_failed, lockedAt: r.w_locked } : undefined,
  };
}

/** Every number of a contract, main first (the hand-over proves passwords across them). */
export async function contractNumbers(db: Queryable, contractId: string): Promise<ContractNumber[]> {
  const { rows } = await db.query<ContractNumber>(
    `select number, role, services from phone_number where contract_id = $1 order by role desc, number`,
    [contractId],
  );
  return rows;
}

/** One more wrong temp password; returns the count, and whether this one used up the attempts. */
export async function countTempFailure(db: Queryable, number: string, max: number): Promise<{ failed: number; exhausted: boolean } | undefined> {
  const { rows } = await db.query<{ failed_attempts: number }>(
    `update temp_password set failed_attempts = failed_attempts + 1
      where login_number = $1 and realm = 'site' and used_at is null and failed_attempts < $2
      returning failed_attempts`,
    [number, max],
  );
  const n = rows[0]?.failed_attempts;
  return n === undefined ? undefined : { failed: n, exhausted: n >= max };
}

/** One more wrong password; locks it at `max`. `lockedNow` is true only for the entry that locked it. */
export async function countPasswordFailure(db: Queryable, number: string, max: number, now: Date): Promise<{ failed: number; lockedNow: boolean } | undefined> {
  const { rows } = await db.query<{ failed_attempts: number; locked_at: Date | null }>(
    `update password set failed_attempts = failed_attempts + 1,
                         locked_at = case when failed_attempts + 1 >= $2 then $3::timestamptz else null end
      where login_number = $1 and realm = 'site' and locked_at is null
      returning failed_attempts, locked_at`,
    [number, max, now],
  );
  const r = rows[0];
  return r && { failed: r.failed_attempts, lockedNow: r.locked_at !== null };
}

/** A right password: the counter goes back to 0. False when it was locked in the meantime. */
export async function resetPasswordFailures(db: Queryable, number: string): Promise<boolean> {
  const r = await db.query(`update password set failed_attempts = 0 where login_number = $1 and realm = 'site' and locked_at is null`, [number]);
  return r.rowCount === 1;
}

/** The temp password's 認証単位 becomes the contract's (the guide: choose the unit, then call). */
export async function setContractAuthUnit(db: Queryable, contractId: string, unit: AuthUnit): Promise<boolean> {
  const r = await db.query(`update contract set auth_unit = $2, updated_at = now() where id = $1 and auth_unit <> $2`, [contractId, unit]);
  return r.rowCount === 1;
}

/** Sets a new password (unlocked, counter 0) and retires the number's temp password. */
export async function setSitePassword(db: Queryable, number: string, hash: string, now: Date): Promise<void> {
  await db.query(
    `insert into password (login_number, realm, hash, set_at, failed_attempts, locked_at, previous_hash)
     values ($1, 'site', $2, $3, 0, null, null)
     on conflict (login_number, realm) do update set previous_hash = password.hash, hash = excluded.hash,
       set_at = excluded.set_at, failed_attempts = 0, locked_at = null`,
    [number, hash, now],
  );
  await db.query(`update temp_password set used_at = $2 where login_number = $1 and realm = 'site' and used_at is null`, [number, now]);
}

/** Send-enabled 送信先 of a number (for the パスワード無効 notice). */
export async function sendingDestinations(db: Queryable, number: string): Promise<string[]> {
  const { rows } = await db.query<{ address: string }>(
    'select distinct address from notify_destination where number = $1 and send order by address',
    [number],
  );
  return rows.map((r) => r.address);
}
