// 仮パスワード設定 pattern A, wrong entries: retries that end well, three strikes, silence
// until the timeout, and a caller hanging up. Contract WA2; one target number per test.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile();

/** A call from `caller` typing `typed`, entry by entry (the SIPp scenario is checked to type exactly these). */
const call = (scenario: string, caller: string, typed: string[]) => h.call(scenario, { caller, dialled: ACCESS.A_WEST, typed });

// The slowest call (three unanswered confirmations, ~45 s) comes first so it starts at once.
describe.concurrent('temp-password IVR, pattern A, wrong entries', () => {
  it('no confirmation until the timeout, three times: failed_3_strikes, nothing stored', async ({ expect }) => {
    const record = await call('ivr-a-confirm-timeouts.xml', '0612340001', ['2', '0612340007#', '11223344#']);
    expect(record).toMatchObject({
      outcome: 'failed_3_strikes', pattern: 'A', unit: 'number', target: '0612340007', caller: '0612340001', reason: 'confirm_password',
    });
    expect(await h.tempPasswordState('0612340007')).toBe('none');
  });

  it('three invalid unit keys: failed_3_strikes, nothing stored', async ({ expect }) => {
    const record = await call('ivr-a-unit-3-strikes.xml', '0612340002', ['0', '#', '9']);
    expect(record).toMatchObject({ outcome: 'failed_3_strikes', pattern: 'A', unit: null, target: null, caller: '0612340002', reason: 'unit_menu' });
    expect(await h.tempPasswordState('0612340002')).toBe('none');
  });

  it('foreign, other-contract and no-mail-service numbers are refused: failed_3_strikes', async ({ expect }) => {
    const record = await call('ivr-a-number-3-strikes.xml', '0612340003', ['2', '09012345678#', '0355556666#', '0612340004#']);
    expect(record).toMatchObject({ outcome: 'failed_3_strikes', pattern: 'A', unit: 'number', target: null, caller: '0612340003', reason: 'enter_number' });
    for (const n of ['09012345678', '0355556666', '0612340004', '0612340003']) expect(await h.tempPasswordState(n)).toBe('none');
  });

  it('caller hangs up at the confirmation: caller_hung_up, nothing stored', async ({ expect }) => {
    const record = await call('ivr-a-hangup.xml', '0612340001', ['2', '0612340008#', '12345678#']);
    expect(record).toMatchObject({
      outcome: 'caller_hung_up', pattern: 'A', unit: 'number', target: '0612340008', caller: '0612340001', reason: 'confirm_password',
    });
    expect(await h.tempPasswordState('0612340008')).toBe('none');
  });

  it('an invalid unit key, then 1: 回線単位 after one failure', async ({ expect }) => {
    const record = await call('ivr-a-unit-retry.xml', '0612340001', ['9', '1', '12345678#', '12345678#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'line', target: '0612340001', caller: '0612340001', reason: null });
    expect(await h.tempPasswordState('0612340001')).toBe('realm=site unit=line state=valid');
  });

  it('7-digit passwords (ended by # or by a pause) are refused, an 8-digit one is set', async ({ expect }) => {
    const record = await call('ivr-a-password-length.xml', '0612340005', ['3', '1234567#', '1234567', '24681357#', '24681357#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'admin_user', target: '0612340005', caller: '0612340005', reason: null });
    expect(await h.tempPasswordState('0612340005')).toBe('realm=site unit=admin_user state=valid');
  });

  it('a confirmation mismatch re-asks the confirmation; the matching one sets the password', async ({ expect }) => {
    const record = await call('ivr-a-confirm-retry.xml', '0612340001', ['2', '0612340006#', '13572468#', '13572460#', '13572468#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'number', target: '0612340006', caller: '0612340001', reason: null });
    expect(await h.tempPasswordState('0612340006')).toBe('realm=site unit=number state=valid');
  });
});

// After the calls above (a sequential test waits for the concurrent group before it).
h.closingChecks();
