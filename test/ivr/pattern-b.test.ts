// 仮パスワード設定 pattern B (072-242-7142): both services, the 認証用番号, the required digit
// (ivr.patternBRequiredDigit, default 5), a service the contract lacks, three strikes
// sending the caller back to the service menu, and the restart cap.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile();

/** A call from `caller` typing `typed`, entry by entry (the SIPp scenario is checked to type exactly these). */
const call = (scenario: string, caller: string, typed: string[]) => h.call(scenario, { caller, dialled: ACCESS.B, typed });

describe.concurrent('temp-password IVR, pattern B', () => {
  it('three strikes send the caller back to the service menu; the second round succeeds', async ({ expect }) => {
    const record = await call('ivr-b-restart.xml', '0722251111', ['0#', '0722253333#', '09012345678#', '0722221111#', '0#', '0722251111#', '12345678#', '12345678#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722251111', caller: '0722251111', reason: null });
    expect(await h.tempPasswordState('0722251111')).toBe('realm=chakushin_mail state=valid');
    // The refused number of the first round got nothing.
    expect(await h.tempPasswordState('0722253333')).toBe('none');
  });

  it('restart cap used up: failed_3_strikes, nothing stored', async ({ expect }) => {
    const record = await call('ivr-b-restart-cap.xml', '0722261111', ['9#', '9#', '9#', '9#', '9#', '9#']);
    expect(record).toMatchObject({ outcome: 'failed_3_strikes', pattern: 'B', unit: null, target: null, caller: '0722261111', reason: 'service_menu' });
    expect(await h.tempPasswordState('0722261111')).toBe('none');
  });

  it('0# 着信お知らせメール for the caller’s contract number', async ({ expect }) => {
    const record = await call('ivr-b-chakushin.xml', '0722221111', ['0#', '0722221111#', '12345678#', '12345678#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722221111', caller: '0722221111', reason: null });
    expect(await h.tempPasswordState('0722221111')).toBe('realm=chakushin_mail state=valid');
  });

  it('1# FAXお知らせメール from the contract’s 認証用番号', async ({ expect }) => {
    const record = await call('ivr-b-fax-auth.xml', '0722229999', ['1#', '0722223333#', '13572468#', '13572468#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'fax_mail', target: '0722223333', caller: '0722229999', reason: null });
    expect(await h.tempPasswordState('0722223333')).toBe('realm=fax_mail state=valid');
  });

  it('passwords without the required digit, or made only of it, are refused', async ({ expect }) => {
    const record = await call('ivr-b-password-digit.xml', '0722241111', ['0#', '0722241111#', '12346789#', '55555555#', '24681357#', '24681357#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722241111', caller: '0722241111', reason: null });
    expect(await h.tempPasswordState('0722241111')).toBe('realm=chakushin_mail state=valid');
  });

  it('the key of a service the contract lacks is refused', async ({ expect }) => {
    const record = await call('ivr-b-missing-service.xml', '0722231111', ['1#', '0#', '0722231111#', '86421357#', '86421357#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722231111', caller: '0722231111', reason: null });
    // Exactly the mail realm: no fax_mail temp password was set.
    expect(await h.tempPasswordState('0722231111')).toBe('realm=chakushin_mail state=valid');
  });
});

// After the calls above (a sequential test waits for the concurrent group before it).
h.closingChecks();
