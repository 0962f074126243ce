import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const example = {
  contracts: [{
    id: 'W0001', region: 'west', pattern: 'A', authUnit: 'line',
    numbers: [
      { number: '0611112222', role: 'main', services: ['chakushin_mail'], target: 'sip:0611112222@127.0.0.1:5090',
        notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }], designatedOnly: false, unansweredOnly: false, designated: [] } },
      { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
    ],
    authNumbers: ['0611112222'],
  }],
};

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-cli-'));
});
afterAll(async () => {
  await db.drop();
});

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe('chakushin provision', () => {
  it('rejects a bad file listing every error, and writes nothing', async () => {
    const bad = structuredClone(example) as any;
    const c = bad.contracts[0];
    c.numbers[0].number = '061111222';
    c.numbers[0].notify.destinations = Array.from({ length: 6 }, (_, i) => ({ address: `u${i}@example.jp` }));
    c.numbers[0].notify.designated = Array.from({ length: 31 }, (_, i) => `06000000${String(i).padStart(2, '0')}`);
    c.numbers[1].services = ['fax_mail', 'call_waiting'];
    const twoMains = structuredClone(example.contracts[0]) as any;
    twoMains.id = 'W0002';
    twoMains.numbers = [
      { number: '0622221111', role: 'main' },
      { number: '0622223333', role: 'main' },
    ];
    const badPath = await file('bad.json', bad);
    const r = await runCli(['provision', badPath], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rejected, nothing was changed');
    expect(r.stderr).toContain('contracts[0].numbers[0].number: must be a national number');
    expect(r.stderr).toContain('contracts[0].numbers[0].notify.destinations: at most 5 destinations');
    expect(r.stderr).toContain('contracts[0].numbers[0].notify.designated: at most 30 designated numbers');
    expect(r.stderr).toContain('contracts[0].numbers[1].services[1]: unknown service');

    const r2 = await runCli(['provision', await file('mains.json', { contracts: [twoMains] })], { DATABASE_URL: db.url });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('contracts[0].numbers: exactly one main number (契約者回線番号) is required, found 2');
    expect((await db.pool.query('select count(*)::int as n from contract')).rows[0].n).toBe(0);
  });

  it('lists a contract-level error (two main numbers) together with a field error, with --check and when loading', async () => {
    const c = structuredClone(example.contracts[0]) as any;
    c.id = 'W0009';
    c.numbers = [
      { number: '0633331111', role: 'main', services: ['fax_mail', 'call_waiting'] },
      { number: '0633332222', role: 'main' },
    ];
    const p = await file('both.json', { contracts: [c] });
    for (const args of [['provision', p, '--check'], ['provision', p]]) {
      const r = await runCli(args, { DATABASE_URL: db.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${p}: contracts[0].numbers[0].services[1]: unknown service`);
      expect(r.stderr).toContain(`${p}: contracts[0].numbers: exactly one main number (契約者回線番号) is required, found 2`);
    }
    expect((await db.pool.query(`select count(*)::int as n from contract where id = 'W0009'`)).rows[0].n).toBe(0);
  });

  it('refuses an auth number another contract in the database already has, naming that contract', async () => {
    const b1 = { id: 'B0001', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722401111', role: 'main' }], authNumbers: ['0722409999'] };
    const b2 = { id: 'B0002', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722411111', role: 'main' }], authNumbers: ['0722409999'] };
    expect((await runCli(['provision', await file('b1.json', { contracts: [b1] })], { DATABASE_URL: db.url })).code).toBe(0);
    const r = await runCli(['provision', await file('b2.json', { contracts: [b2] })], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('contracts[0].authNumbers[0]: 0722409999 is already an auth number (認証用番号) of contract B0001');
  });

  it('says which file is not JSON', async () => {
    const r = await runCli(['provision', await file('broken.json', '{"contracts": [')], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.json: .*JSON/);
  });

  it('accepts the example twice (idempotent) and reports what it loaded', async () => {
    const p = await file('example.json', example);
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['provision', p], { DATABASE_URL: db.url });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('provisioned 1 contract(s), 2 number(s)');
      expect(r.code).toBe(0);
    }
    const rows = (await db.pool.query(`select number, role, services from phone_number where contract_id = 'W0001' order by number`)).rows;
    expect(rows).toEqual([
      { number: '0611112222', role: 'main', services: ['chakushin_mail'] },
      { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
    ]);
  });

  it('temp-password status names a bad number and reports none for a fresh one', async () => {
    const bad = await runCli(['temp-password', 'status', '06-1111-2222'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NUMBER: "06-1111-2222" is not a national number');
    const none = await runCli(['temp-password', 'status', '0611112222'], { DATABASE_URL: db.url });
    expect(none.stdout.trim()).toBe('0611112222: no temp password');
    expect(none.code).toBe(1);
  });
});
