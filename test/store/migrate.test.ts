import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('migrations', () => {
  it('are applied once and recorded', async () => {
    const { rows } = await db.pool.query('select name from schema_migration order by name');
    expect(rows.map((r) => r.name)).toContain('001_init.sql');
    expect(await migrate(db.pool)).toEqual([]);
  });

  it('enforce one main number per contract', async () => {
    await db.pool.query(`insert into contract (id, region, pattern, auth_unit) values ('C1', 'west', 'A', 'line')`);
    await db.pool.query(`insert into phone_number (number, contract_id, role) values ('0611112222', 'C1', 'main')`);
    await expect(
      db.pool.query(`insert into phone_number (number, contract_id, role) values ('0611113333', 'C1', 'main')`),
    ).rejects.toThrow(/phone_number_one_main/);
  });
});
