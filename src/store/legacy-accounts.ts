// The legacy site's credentials (サービス設定ホームページ, pattern B): one password per number and
// service (realm 'chakushin_mail' / 'fax_mail' of the password and temp_password tables), the
// temp password the pattern B IVR sets, and their failure counters. Counters and locks change in
// single UPDATEs, so concurrent wrong entries each count. The same rows are what the 設備変更工事
// hand-over proves and then retires.
import type pg from 'pg';
import { MAIL_SERVICES, type ContractNumber, type MailService, type Pattern, type Region } from '../domain/subscriber.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** The per-service realms of the legacy site: each mail service has its own password there. */
export type LegacyRealm = MailService;

export interface LegacyCredential {
  number: string;
  realm: LegacyRealm;
  password?: { hash: string; setAt: Date; failedAttempts: number; lockedAt: Date | null };
  temp?: { hash: string; createdAt: Date; expiresAt: Date; failedAttempts: number; usedAt: Date | null };
}

export interface LegacyAccount extends ContractNumber {
  contractId: string;
  region: Region;
  pattern: Pattern;
  /** Whether the number has a password on the new site (realm 'site'): the hand-over is then done. */
  hasSitePassword: boolean;
}

export async function loadLegacyAccount(db: Queryable, number: string): Promise<LegacyAccount | undefined> {
  const { rows } = await db.query(
    `select p.number, p.role, p.services, c.id as contract_id, c.region, c.pattern,
            exists (select 1 from password w where w.login_number = p.number and w.realm = 'site') as has_site
       from phone_number p join contract c on c.id = p.contract_id where p.number = $1`,
    [number],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { number: r.number, role: r.role, services: r.services, contractId: r.contract_id, region: r.region, pattern: r.pattern, hasSitePassword: r.has_site };
}

/** The legacy credentials of these numbers, for every realm each number subscribes (in the given order). */
export async function loadLegacyCredentials(db: Queryable, numbers: readonly ContractNumber[]): Promise<LegacyCredential[]> {
  const wanted = numbers.flatMap((n) => MAIL_SERVICES.filter((r) => n.services.includes(r)).map((realm) => ({ number: n.number, realm })));
  if (!wanted.length) return [];
  const { rows } = await db.query(
    `select k.number, k.realm,
            w.hash as w_hash, w.set_at as w_set, w.failed_attempts as w_failed, w.locked_at as w_locked,
            t.hash as t_hash, t.created_at as t_created, t.expires_at as t_expires, t.failed_attempts as t_failed, t.used_at as t_used
       from (select e->>'number' as number, e->>'realm' as realm, ord from json_array_elements($1::json) with ordinality as x(e, ord)) k
       left join password w on w.login_number = k.number and w.realm = k.realm
       left join temp_password t on t.login_number = k.number and t.realm = k.realm
      order by k.ord`,
    [JSON.stringify(wanted)],
  );
  return rows.map((r) => ({
    number: r.number,
    realm: r.realm,
    password: r.w_hash ? { hash: r.w_hash, setAt: r.w_set, failedAttempts: r.w_failed, lockedAt: r.w_locked } : undefined,
    temp: r.t_hash ? { hash: r.t_hash, createdAt: r.t_created, expiresAt: r.t_expires, failedAttempts: r.t_failed, usedAt: r.t_used } : undefined,
  }));
}

/** One more wrong temp password of a realm; returns whether this one used up the attempts. */
export async function countLegacyTempFailure(db: Queryable, number: string, realm: LegacyRealm, max: number): Promise<{ failed: number; exhausted: boolean } | undefined> {
  const { rows } = await db.query<{ failed_attempts: number }>(
    `update temp_password set failed_attempts = failed_attempts + 1
      where login_number = $1 and realm = $2 and used_at is null and failed_attempts < $3
      returning failed_attempts`,
    [number, realm, max],
  );
  const n = rows[0]?.failed_attempts;
  return n === undefined ? undefined : { failed: n, exhausted: n >= max };
}

/** One more wrong password of a realm; locks it at `max`. `lockedNow` only for the entry that locked it. */
export async function countLegacyPasswordFailure(db: Queryable, number: string, realm: LegacyRealm, max: number, now: Date): Promise<{ failed: number; lockedNow: boolean } | undefined> {
  const { rows } = await db.query<{ failed_attempts: number; locked_at: Date | null }>(
    `update password set failed_attempts = failed_attempts + 1,
                         locked_at = case when failed_attempts + 1 >= $3 then $4::timestamptz else null end
      where login_number = $1 and realm = $2 and locked_at is null
      returning failed_attempts, locked_at`,
    [number, realm, max, now],
  );
  const r = rows[0];
  return r && { failed: r.failed_attempts, lockedNow: r.locked_at !== null };
}

/** A right password: the counter goes back to 0. False when it was locked in the meantime. */
export async function resetLegacyPasswordFailures(db: Queryable, number: string, realm: LegacyRealm): Promise<boolean> {
  const r = await db.query(`update password set failed_attempts = 0 where login_number = $1 and realm = $2 and locked_at is null`, [number, realm]);
  return r.rowCount === 1;
}

/** Sets the legacy password of a realm (unlocked, counter 0) and retires that realm's temp password. */
export async function setLegacyPassword(db: Queryable, number: string, realm: LegacyRealm, hash: string, now: Date): Promise<void> {
  await db.query(
    `insert into password (login_number, realm, hash, set_at, failed_attempts, locked_at, previous_hash)
     values ($1, $2, $3, $4, 0, null, null)
     on conflict (login_number, realm) do update set previous_hash = password.hash, hash = excluded.hash,
       set_at = excluded.set_at, failed_attempts = 0, locked_at = null`,
    [number, realm, hash, now],
  );
  await db.query(`update temp_password set used_at = $3 where login_number = $1 and realm = $2 and used_at is null`, [number, realm, now]);
}

/** After the hand-over: the legacy passwords and temp passwords of these numbers are no longer valid anywhere. */
export async function retireLegacyCredentials(db: Queryable, numbers: readonly string[]): Promise<void> {
  await db.query(`delete from password where login_number = any($1) and realm <> 'site'`, [numbers]);
  await db.query(`delete from temp_password where login_number = any($1) and realm <> 'site'`, [numbers]);
}

/**
 * The hand-over's last step, in its transaction: the number locked, and whether it may still be
 * handed over (its contract on pattern A, no new-site password yet).
 */
export async function lockForHandover(client: pg.PoolClient, number: string): Promise<boolean> {
  const { rows } = await client.query<{ pattern: string; has_site: boolean }>(
    `select c.pattern, exists (select 1 from password w where w.login_number = $1 and w.realm = 'site') as has_site
       from phone_number p join contract c on c.id = p.contract_id where p.number = $1 for update of p`,
    [number],
  );
  return rows[0]?.pattern === 'A' && !rows[0].has_site;
}
