import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProvisioning, ProvisioningError, validateProvisioning } from '../../src/store/provisioning.ts';
import { findContractOfCaller } from '../../src/store/subscribers.ts';
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

  it('reports two main numbers', () => {
    const c = structuredClone(example.contracts[0]!) as any;
    c.numbers[1].role = 'main';
    expect(validateProvisioning({ contracts: [c] }).errors).toEqual([
      'contracts[0].numbers: exactly one main number (契約者回線番号) is required, found 2',
    ]);
  });

  it('lists contract-level errors alongside field errors, in one run', () => {
    const c = structuredClone(example.contracts[0]!) as any;
    c.numbers[1].role = 'main';
    c.numbers[1].services = ['teleportation'];
    c.numbers[1].notify = { started: true };
    c.numbers[1].blocked = ['0699999999'];
    c.region = 'north';
    const d = structuredClone(example.contracts[0]!) as any;
    d.numbers = [{ number: '0611113333', role: 'main', services: 'fax_mail' }];
    d.authNumbers = ['0722229999'];
    const e = { id: 'W0003', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722221111', role: 'main' }], authNumbers: ['0722229999', 'abc', '0611112222'] };
    const { errors, file } = validateProvisioning({ contracts: [c, d, e] });
    expect(file).toBeUndefined();
    expect(errors).toEqual([
      // field errors
      'contracts[0].region: Invalid enum value. Expected \'east\' | \'west\', received \'north\'',
      'contracts[0].numbers[1].services[0]: unknown service; known: chakushin_mail, fax_mail, voice_warp, number_request, nuisance_block',
      'contracts[1].numbers[0].services: Expected array, received string',
      'contracts[2].authNumbers[1]: must be a national number: 0 followed by 9–10 digits, no hyphens',
      // the rules across fields, numbers and contracts
      'contracts[0].numbers: exactly one main number (契約者回線番号) is required, found 2',
      'contracts[0].numbers[1].notify: notify settings given but the number does not subscribe chakushin_mail',
      'contracts[0].numbers[1].notify.started: the service cannot be started without a destination address',
      'contracts[0].numbers[1].blocked: block list given but the number does not subscribe nuisance_block',
      'contracts[1].id: contract W0001 already given at contracts[0]',
      'contracts[1].numbers[0].number: 0611113333 is already given at contracts[0].numbers[1]',
      'contracts[2].authNumbers[0]: 0722229999 is already an auth number (認証用番号) of another contract at contracts[1].authNumbers[0]',
      'contracts[2].authNumbers[2]: 0611112222 is already an auth number (認証用番号) of another contract at contracts[0].authNumbers[0]',
    ]);
  });

  it('refuses one auth number (認証用番号) for two contracts, and another contract’s number as one; a contract’s own number is fine', () => {
    const b1 = { id: 'B1', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722221111', role: 'main' }], authNumbers: ['0722221111', '0722229999'] };
    const b2 = { id: 'B2', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722231111', role: 'main' }], authNumbers: ['0722229999'] };
    expect(validateProvisioning({ contracts: [b1] }).errors).toEqual([]);
    expect(validateProvisioning({ contracts: [b1, b2] }).errors).toEqual([
      'contracts[1].authNumbers[0]: 0722229999 is already an auth number (認証用番号) of another contract at contracts[0].authNumbers[1]',
    ]);
    expect(validateProvisioning({ contracts: [{ ...b1, authNumbers: [] }, { ...b2, authNumbers: ['0722221111'] }] }).errors).toEqual([
      "contracts[1].authNumbers[0]: 0722221111 is a number of another contract (contracts[0].numbers[0]); a call from it would be that contract's",
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

describe('provisioning against contracts already loaded', () => {
  const b1 = { id: 'DB1', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722301111', role: 'main', services: ['chakushin_mail'] }], authNumbers: ['0722309999'] };

  async function errorsOf(input: unknown): Promise<string[]> {
    try {
      await applyProvisioning(db.pool, input);
    } catch (err) {
      if (err instanceof ProvisioningError) return err.errors;
      throw err;
    }
    return [];
  }

  it('refuses an auth number another loaded contract already has, a loaded number as an auth number, and a loaded auth number as a number — all listed at once, nothing written', async () => {
    await applyProvisioning(db.pool, { contracts: [b1] });
    const before = await count('auth_number');
    const b2 = {
      id: 'DB2', region: 'west', pattern: 'B', authUnit: 'number',
      numbers: [{ number: '0722311111', role: 'main' }, { number: '0722309999', role: 'additional' }],
      authNumbers: ['0722309999', '0722301111'],
    };
    expect(await errorsOf({ contracts: [b2] })).toEqual([
      'contracts[0].numbers[1].number: 0722309999 is an auth number (認証用番号) of contract DB1; remove it there first',
      'contracts[0].authNumbers[0]: 0722309999 is already an auth number (認証用番号) of contract DB1',
      "contracts[0].authNumbers[1]: 0722301111 is a number of contract DB1; a call from it would be that contract's",
    ]);
    expect(await count('auth_number')).toBe(before);
    expect((await db.pool.query(`select count(*)::int as n from contract where id = 'DB2'`)).rows[0].n).toBe(0);
  });

  it('lists those conflicts with the field errors of a bad file, in one run', async () => {
    const bad = {
      id: 'DB3', region: 'south', pattern: 'B', authUnit: 'number',
      numbers: [{ number: '0722321111', role: 'main' }],
      authNumbers: ['0722309999'],
    };
    expect(await errorsOf({ contracts: [bad] })).toEqual([
      "contracts[0].region: Invalid enum value. Expected 'east' | 'west', received 'south'",
      'contracts[0].authNumbers[0]: 0722309999 is already an auth number (認証用番号) of contract DB1',
    ]);
  });

  it('lets a file move an auth number between two contracts it describes', async () => {
    const b2 = { id: 'DB2', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722311111', role: 'main' }], authNumbers: ['0722309999'] };
    expect(await errorsOf({ contracts: [{ ...b1, authNumbers: [] }, b2] })).toEqual([]);
    const rows = (await db.pool.query(`select contract_id from auth_number where number = '0722309999'`)).rows;
    expect(rows).toEqual([{ contract_id: 'DB2' }]);
  });

  it('findContractOfCaller answers the same contract every time, even for data provisioning would refuse', async () => {
    // Written behind provisioning's back: 0722319999 an auth number of both contracts, 0722311111 also one of DB1's.
    await db.pool.query(`insert into auth_number (contract_id, number) values ('DB2', '0722319999'), ('DB1', '0722319999'), ('DB1', '0722311111')`);
    for (let i = 0; i < 5; i++) {
      expect((await findContractOfCaller(db.pool, '0722319999'))?.id).toBe('DB1');
      // A contract's own number outranks another contract's auth number.
      expect((await findContractOfCaller(db.pool, '0722311111'))?.id).toBe('DB2');
    }
  });
});
