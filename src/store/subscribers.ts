// Read side of the subscriber model: a contract as the IVR sees it.
import type pg from 'pg';
import type { Contract } from '../domain/subscriber.ts';

/**
 * The contract a caller belongs to: the contract holding the number, or (for pattern B)
 * the contract that lists it as an authentication number. One round trip.
 */
export async function findContractOfCaller(pool: pg.Pool, number: string): Promise<Contract | undefined> {
  const { rows } = await pool.query(
    // Provisioning keeps a number to one contract (as its number or its 認証用番号); should data
    // break that anyway, the answer is still one and always the same: own number first, then id.
    `with c as (
       select contract_id as id, 0 as rank from phone_number where number = $1
       union all
       select contract_id, 1 from auth_number where number = $1
       order by rank, id
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
