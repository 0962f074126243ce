// Read side of the subscriber model: a contract as the IVR sees it.
import type pg from 'pg';
import type { AuthUnit } from './temp-passwords.ts';

export interface ContractNumber {
  number: string;
  role: 'main' | 'additional';
  services: string[];
}

export interface ContractView {
  id: string;
  region: 'east' | 'west';
  pattern: 'A' | 'B';
  authUnit: AuthUnit;
  numbers: ContractNumber[];
  /** 認証用番号 (pattern B). */
  authNumbers: string[];
}

/**
 * The contract a caller belongs to: the contract holding the number, or (for pattern B)
 * the contract that lists it as an authentication number. One round trip.
 */
export async function findContractOfCaller(pool: pg.Pool, number: string): Promise<ContractView | undefined> {
  const { rows } = await pool.query(
    `with c as (
       select contract_id as id from phone_number where number = $1
       union
       select contract_id from auth_number where number = $1
       limit 1)
     select k.id, k.region, k.pattern, k.auth_unit,
       (select json_agg(json_build_object('number', p.number, 'role', p.role, 'services', p.services) order by p.role desc, p.number)
          from phone_number p where p.contract_id = k.id) as numbers,
       (select coalesce(json_agg(a.number order by a.number), '[]') from auth_number a where a.contract_id = k.id) as auth_numbers
     from contract k join c on c.id = k.id`,
    [number],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { id: r.id, region: r.region, pattern: r.pattern, authUnit: r.auth_unit, numbers: r.numbers ?? [], authNumbers: r.auth_numbers };
}
