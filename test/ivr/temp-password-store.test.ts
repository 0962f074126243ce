// setTempPassword writes the temp password and its audit row in one transaction (withTransaction):
// if the audit row cannot be written, no temp password is left behind for a caller who was told
// the setting failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTempPassword, tempPasswordStatus } from '../../src/store/temp-passwords.ts';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { provision, subscriber } from '../notify/fixtures.ts';

const MAX_FAILURES = loadConfig({ env: {} }).site.tempPasswordMaxFailures;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await provision(db.pool, subscriber({ number: '0611110001' }), subscriber({ number: '0611110002' }));
});
afterAll(async () => {
  await db?.drop();
});

const set = (loginNumber: string) => setTempPassword(db.pool, { loginNumber, realm: 'site', authUnit: 'line', password: '12345678', ttlHours: 24 });

describe('setTempPassword', () => {
  it('stores the temp password and its audit row together', async () => {
    await set('0611110001');
    expect((await tempPasswordStatus(db.pool, '0611110001', MAX_FAILURES)).map((s) => s.state)).toEqual(['valid']);
    const { rows } = await db.pool.query(`select action from audit_log where subject = '0611110001'`);
    expect(rows).toEqual([{ action: 'temp_password.set' }]);
  });

  it('an audit row the database refuses leaves no temp password behind', async () => {
    await db.pool.query(`
      create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit log unavailable'; end $$;
      create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit();`);
    try {
      await expect(set('0611110002')).rejects.toThrow('audit log unavailable');
      expect(await tempPasswordStatus(db.pool, '0611110002', MAX_FAILURES)).toEqual([]);
    } finally {
      await db.pool.query('drop trigger refuse_audit on audit_log; drop function refuse_audit()');
    }
  });
});
