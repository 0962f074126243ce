import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProvisioning, ProvisioningError, validateProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const example = {
  contracts: [
    {
      id: 'W0001', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        {
          number: '0611112222', role: 'main', services: ['chakushin_mail'], target: 'sip:0611112222@127.0.0.1:5090',
          notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }], designatedOnly: false, unansweredOnly: false, designated: [] },
        },
        { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
      ],
      authNumbers: ['0611112222'],
    },
  ],
};

function badFile() {
  const c = structuredClone(example.contracts[0]!) as any;
  c.numbers[0].number = '06-1111-2222';
  c.numbers[0].notify.destinations = Array.from({ length: 6 }, (_, i) => ({ address: `u${i}@example.jp`, send: true }));
  c.numbers[0].notify.designated = Array.from({ length: 31 }, (_, i) => `06000000${String(i).padStart(2, '0')}`);
  c.numbers[1].services = ['chakushin_mail', 'teleportation'];
  c.numbers[1].role = 'main';
  return { contracts: [c] };
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function count(table: string): Promise<number> {
  return (await db.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n;
}

describe('provisioning', () => {
  it('lists every error of a bad file with its path', () => {
    const { errors, file } = validateProvisioning(badFile());
    expect(file).toBeUndefined();
    const text = errors.join('\n');
    expect(text).toMatch(/contracts\[0\]\.numbers\[0\]\.number: must be a national number/);
    expect(text).toMatch(/contracts\[0\]\.numbers\[0\]\.notify\.destinations: at most 5 destinations/);
    expect(text).toMatch(/contracts\[0\]\.numbers\[0\]\.notify\.designated: at most 30 designated numbers/);
    expect(text).toMatch(/contracts\[0\]\.numbers\[1\]\.services\[1\]: unknown service/);
  });

  it('reports two main numbers (once the shape is valid)', () => {
    const c = structuredClone(example.contracts[0]!) as any;
    c.numbers[1].role = 'main';
    expect(validateProvisioning({ contracts: [c] }).errors).toEqual([
      'contracts[0].numbers: exactly one main number (契約者回線番号) is required, found 2',
    ]);
  });

  it('rejects bad mail addresses and a started service with no destination', () => {
    const c = structuredClone(example.contracts[0]!) as any;
    c.numbers[0].notify.destinations = [{ address: 'a@@example.jp' }, { address: 'user@example.jp.' }];
    c.numbers[1].notify = { started: true };
    const { errors } = validateProvisioning({ contracts: [c] });
    expect(errors).toContain("contracts[0].numbers[0].notify.destinations[0].address: mail address must contain exactly one '@'");
    expect(errors).toContain("contracts[0].numbers[0].notify.destinations[1].address: mail address must not end with '.'");
    expect(errors).toContain('contracts[0].numbers[1].notify.started: the service cannot be started without a destination address');
  });

  it('writes nothing when the file is bad', async () => {
    await expect(applyProvisioning(db.pool, badFile())).rejects.toBeInstanceOf(ProvisioningError);
    expect(await count('contract')).toBe(0);
    expect(await count('phone_number')).toBe(0);
  });

  it('loads the example, and loading it again changes nothing', async () => {
    expect(await applyProvisioning(db.pool, example)).toEqual({ contracts: 1, numbers: 2 });
    await applyProvisioning(db.pool, example);
    expect(await count('contract')).toBe(1);
    expect(await count('phone_number')).toBe(2);
    expect(await count('notify_destination')).toBe(1);
    const main = await db.pool.query(`select number from phone_number where role = 'main'`);
    expect(main.rows).toEqual([{ number: '0611112222' }]);
  });

  it('swaps the main number and drops numbers no longer listed', async () => {
    const c = structuredClone(example.contracts[0]!) as any;
    c.numbers = [{ number: '0611113333', role: 'main', services: ['fax_mail'] }];
    await applyProvisioning(db.pool, { contracts: [c] });
    const rows = (await db.pool.query('select number, role from phone_number order by number')).rows;
    expect(rows).toEqual([{ number: '0611113333', role: 'main' }]);
    expect(await count('notify_setting')).toBe(0);
  });

  it('refuses to take a number from a contract the file does not describe', async () => {
    const other = { id: 'W0002', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0611113333', role: 'main' }] };
    await expect(applyProvisioning(db.pool, { contracts: [other] })).rejects.toThrow(/belongs to contract W0001/);
    expect(await count('contract')).toBe(1);
  });
});
