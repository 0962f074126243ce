// The store the settings pages use for 一括転送機能 and 故障・回復通知機能: the stale-form check on
// the contract's row, and what each write changes (the probed lines follow サービス開始／停止).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBulkForward, writeBulkForwardDestinations, writeBulkForwardStarted } from '../../src/store/bulk-forward-settings.ts';
import { changeContractSettings } from '../../src/store/contract-settings.ts';
import { readFailureNotice, writeFailureNoticeAutomatic, writeFailureNoticeDestinations, writeFailureNoticeMailText, writeFailureNoticeStarted } from '../../src/store/failure-notice-settings.ts';
import { listLines } from '../../src/store/line-probes.ts';
import { StaleFormError } from '../../src/store/notify-settings.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
const at = new Date('2026-12-05T01:00:00Z');
beforeAll(async () => {
  db = await createTestDatabase();
  await applyProvisioning(db.pool, {
    contracts: [{
      id: 'S0001', region: 'east', pattern: 'A', authUnit: 'line',
      numbers: [{ number: '0311112222', role: 'main', target: 'sip:pbx@192.0.2.1' }, { number: '0311113333', role: 'additional' }],
      services: ['bulk_forward', 'failure_notice'],
    }],
  });
});
afterAll(async () => {
  await db.drop();
});

describe('contract settings', () => {
  it('一括転送: 転送先 per number (null removes it), 開始 by the subscriber, every change bumps the version', async () => {
    const before = (await readBulkForward(db.pool, 'S0001'))!;
    expect(before.numbers).toEqual([{ number: '0311112222', destination: null }, { number: '0311113333', destination: null }]);
    await changeContractSettings(db.pool, 'bulk_forward_setting', 'S0001', before.version, async (c) => {
      await writeBulkForwardDestinations(c, 'S0001', [{ number: '0311112222', destination: '0612345678' }, { number: '0311113333', destination: '09012345678' }], at);
      await writeBulkForwardStarted(c, 'S0001', true, 'subscriber', at);
    });
    const after = (await readBulkForward(db.pool, 'S0001'))!;
    expect(after).toMatchObject({ started: true, startedBy: 'subscriber', startedAt: at });
    expect(after.numbers.map((n) => n.destination)).toEqual(['0612345678', '09012345678']);
    expect(after.version).toBeGreaterThan(before.version);
    await changeContractSettings(db.pool, 'bulk_forward_setting', 'S0001', after.version, (c) => writeBulkForwardDestinations(c, 'S0001', [{ number: '0311113333', destination: null }], at));
    expect((await readBulkForward(db.pool, 'S0001'))!.numbers.map((n) => n.destination)).toEqual(['0612345678', null]);
  });

  it('a form drawn from an older version saves nothing', async () => {
    const { version } = (await readBulkForward(db.pool, 'S0001'))!;
    await expect(changeContractSettings(db.pool, 'bulk_forward_setting', 'S0001', version - 1, (c) => writeBulkForwardStarted(c, 'S0001', false, 'subscriber', at)))
      .rejects.toBeInstanceOf(StaleFormError);
    expect((await readBulkForward(db.pool, 'S0001'))!.started).toBe(true);
  });

  it('故障・回復通知: 開始 puts the lines under probing and 停止 takes them off; mail text, 送信先 and the automatic settings', async () => {
    let fn = (await readFailureNotice(db.pool, 'S0001'))!;
    expect(await listLines(db.pool, { contractId: 'S0001', limit: 10 })).toEqual([]);
    await changeContractSettings(db.pool, 'failure_notice_setting', 'S0001', fn.version, async (c) => {
      await writeFailureNoticeDestinations(c, 'S0001', [{ address: 'noc@example.jp', send: true }, { address: 'boss@example.jp', send: false }], at);
      await writeFailureNoticeMailText(c, 'S0001', { contractorName: '株式会社テスト', siteInfo: '東京本社' }, at);
      await writeFailureNoticeAutomatic(c, 'S0001', { autoStartBulkForward: true, autoStopBulkForward: false }, at);
      await writeFailureNoticeStarted(c, 'S0001', true, at);
    });
    fn = (await readFailureNotice(db.pool, 'S0001'))!;
    expect(fn).toMatchObject({
      started: true, contractorName: '株式会社テスト', siteInfo: '東京本社', autoStartBulkForward: true, autoStopBulkForward: false,
      destinations: [{ address: 'noc@example.jp', send: true }, { address: 'boss@example.jp', send: false }],
    });
    expect((await listLines(db.pool, { contractId: 'S0001', limit: 10 })).map((l) => l.line).sort()).toEqual(['0311113333', 'sip:pbx@192.0.2.1']);
    await changeContractSettings(db.pool, 'failure_notice_setting', 'S0001', fn.version, (c) => writeFailureNoticeStarted(c, 'S0001', false, at));
    expect(await listLines(db.pool, { contractId: 'S0001', limit: 10 })).toEqual([]);
  });
});
