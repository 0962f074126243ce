// Provisioning of 一括転送機能 and 故障・回復通知機能 (contract entries' services, bulkForward,
// failureNotice): every rule by path, all or nothing, and the probed lines kept in step.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBulkForwardState } from '../../src/store/bulk-forward-settings.ts';
import { readFailureNotice } from '../../src/store/failure-notice-settings.ts';
import { listLines } from '../../src/store/line-probes.ts';
import { applyProvisioning, ProvisioningError, validateProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

function entry(over: Record<string, unknown> = {}) {
  return {
    id: 'B0001', region: 'west', pattern: 'A', authUnit: 'line',
    numbers: [
      { number: '0611112222', role: 'main', target: 'sip:pbx@192.0.2.10' },
      { number: '0611113333', role: 'additional', target: 'sip:pbx@192.0.2.10' },
      { number: '0611114444', role: 'additional' },
    ],
    services: ['bulk_forward', 'failure_notice'],
    failureNotice: {
      started: true, contractorName: '株式会社テスト', siteInfo: '大阪本社 3F', destinations: [{ address: 'noc@example.jp', send: true }],
      autoStartBulkForward: true, autoStopBulkForward: true,
    },
    bulkForward: { started: false, destinations: [{ number: '0611112222', destination: '0312345678' }] },
    ...over,
  };
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('provisioning 一括転送機能 and 故障・回復通知機能', () => {
  it('stores both services and probes one line per SIP target and one per number without one', async () => {
    await applyProvisioning(db.pool, { contracts: [entry()] });
    expect(await readFailureNotice(db.pool, 'B0001')).toMatchObject({
      started: true, contractorName: '株式会社テスト', siteInfo: '大阪本社 3F', destinations: [{ address: 'noc@example.jp', send: true }],
      autoStartBulkForward: true, autoStopBulkForward: true,
    });
    expect(await readBulkForwardState(db.pool, 'B0001')).toMatchObject({ started: false, startedBy: null });
    const lines = await listLines(db.pool, { contractId: 'B0001', limit: 10 });
    expect(lines.map((l) => [l.line, l.numbers, l.state]).sort()).toEqual([
      ['0611114444', ['0611114444'], 'unknown'],
      ['sip:pbx@192.0.2.10', ['0611112222', '0611113333'], 'unknown'],
    ]);
  });

  it('a reload keeps the lines that stay (and their state); stopping the service drops them; started 一括転送 is the operator\'s', async () => {
    await db.pool.query(`update line_probe set state = 'down' where line = 'sip:pbx@192.0.2.10'`);
    await applyProvisioning(db.pool, { contracts: [entry({ numbers: entry().numbers.slice(0, 2) })] });
    expect((await listLines(db.pool, { contractId: 'B0001', limit: 10 })).map((l) => [l.line, l.state])).toEqual([['sip:pbx@192.0.2.10', 'down']]);
    await applyProvisioning(db.pool, { contracts: [entry({ failureNotice: { ...entry().failureNotice, started: false }, bulkForward: { ...entry().bulkForward, started: true } })] });
    expect(await listLines(db.pool, { contractId: 'B0001', limit: 10 })).toEqual([]);
    expect(await readBulkForwardState(db.pool, 'B0001')).toMatchObject({ started: true, startedBy: 'operator' });
    await applyProvisioning(db.pool, { contracts: [entry({ services: [], failureNotice: undefined, bulkForward: undefined })] });
    expect(await readFailureNotice(db.pool, 'B0001')).toBeUndefined();
    expect(await readBulkForwardState(db.pool, 'B0001')).toBeUndefined();
  });

  it('lists every problem by path and writes nothing', async () => {
    const bad = entry({
      services: ['failure_notice', 'teleportation'],
      failureNotice: {
        started: true, contractorName: '株式会社①テスト', siteInfo: 'ｵｵｻｶ', destinations: [{ address: 'a@@example.jp' }, { address: 'b@example.jp' }, { address: 'b@example.jp' }],
        autoStartBulkForward: true,
      },
      bulkForward: { started: true, destinations: [{ number: '0611112222', destination: '0611112222' }, { number: '0699999999', destination: '0312345678' }] },
    });
    const errors = validateProvisioning({ contracts: [bad] }).errors.join('\n');
    expect(errors).toContain('contracts[0].services[1]: unknown contract service; known: bulk_forward, failure_notice');
    expect(errors).toContain('contracts[0].failureNotice.contractorName: character "①" (U+2460) cannot be mailed');
    expect(errors).toContain('contracts[0].failureNotice.siteInfo: character "ｵ" (U+FF75) cannot be mailed');
    expect(errors).toContain('contracts[0].failureNotice.destinations[0].address: mail address must contain exactly one \'@\'');
    expect(errors).toContain('contracts[0].failureNotice.destinations[2].address: b@example.jp is listed twice');
    expect(errors).toContain('contracts[0].failureNotice.autoStartBulkForward: needs the contract to subscribe bulk_forward');
    expect(errors).toContain('contracts[0].bulkForward: bulkForward settings given but the contract does not subscribe bulk_forward');
    expect(errors).toContain('contracts[0].bulkForward.destinations[0].destination:');
    expect(errors).toContain('contracts[0].bulkForward.destinations[1].number: 0699999999 is not a number of this contract');
    const long = validateProvisioning({ contracts: [entry({ failureNotice: { ...entry().failureNotice, siteInfo: 'あ'.repeat(41), started: true, destinations: [] } })] }).errors;
    expect(long).toEqual([
      'contracts[0].failureNotice.siteInfo: must be at most 40 characters',
      'contracts[0].failureNotice.started: the service cannot be started without a destination address',
    ]);
    const before = await readFailureNotice(db.pool, 'B0001');
    await expect(applyProvisioning(db.pool, { contracts: [bad] })).rejects.toBeInstanceOf(ProvisioningError);
    expect(await readFailureNotice(db.pool, 'B0001')).toEqual(before);
  });
});

it('the README\'s example of both services loads as written', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const example = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).find((j) => j.includes('"failureNotice"'))!;
  expect(validateProvisioning(JSON.parse(example)).errors).toEqual([]);
  await applyProvisioning(db.pool, JSON.parse(example));
  expect((await listLines(db.pool, { contractId: 'W0002', limit: 10 })).map((l) => l.numbers)).toEqual([['0612340001', '0612340002']]);
});
