// Applies a 認証単位変更 plan inside the caller's transaction: the contract row is locked and must
// still be on the unit the form was drawn from, so two windows cannot both change it.
import type pg from 'pg';
import type { AuthUnitChangePlan } from '../domain/auth-unit-change.ts';

/** False when the contract is no longer on `plan.from` (changed meanwhile): nothing is written. */
export async function applyAuthUnitChange(db: pg.PoolClient, contractId: string, plan: AuthUnitChangePlan): Promise<boolean> {
  const { rows } = await db.query<{ auth_unit: string }>('select auth_unit from contract where id = $1 for update', [contractId]);
  if (rows[0]?.auth_unit !== plan.from) return false;
  await db.query('update contract set auth_unit = $2, updated_at = now() where id = $1', [contractId, plan.to]);
  if (plan.copy && plan.copy.to.length) {
    // The source's hash (and its 60-day clock) is copied; the copies start unlocked at 0 failures.
    await db.query(
      `insert into password (login_number, realm, hash, set_at, failed_attempts, locked_at, previous_hash)
       select t.number, 'site', s.hash, s.set_at, 0, null, null
         from password s cross join unnest($2::text[]) as t(number)
        where s.login_number = $1 and s.realm = 'site'
       on conflict (login_number, realm) do update set previous_hash = password.hash, hash = excluded.hash,
         set_at = excluded.set_at, failed_attempts = 0, locked_at = null`,
      [plan.copy.source, plan.copy.to],
    );
  }
  if (plan.drop.length) await db.query(`delete from password where realm = 'site' and login_number = any($1::text[])`, [plan.drop]);
  return true;
}
