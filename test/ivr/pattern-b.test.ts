// 仮パスワード設定 pattern B (072-242-7142): both services, the 認証用番号, the required digit
// (ivr.patternBRequiredDigit, default 5), a service the contract lacks, three strikes
// sending the caller back to the service menu, and the restart cap.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile();

const call = (scenario: string, caller: string) => h.call(scenario, { caller, dialled: ACCESS.B });

describe.concurrent('temp-password IVR, pattern B', () => {
  it('three strikes send the caller back to the service menu; the second round succeeds', async ({ expect }) => {
    const record = await call('ivr-b-restart.xml', '0722251111');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722251111', caller: '0722251111', reason: null });
    expect(await h.tempPasswordState('0722251111')).toBe('realm=chakushin_mail state=valid');
    // The refused number of the first round got nothing.
    expect(await h.tempPasswordState('0722253333')).toBe('none');
  });

  it('restart cap used up: failed_3_strikes, nothing stored', async ({ expect }) => {
    const record = await call('ivr-b-restart-cap.xml', '0722261111');
    expect(record).toMatchObject({ outcome: 'failed_3_strikes', pattern: 'B', unit: null, target: null, caller: '0722261111', reason: 'service_menu' });
    expect(await h.tempPasswordState('0722261111')).toBe('none');
  });

  it('0# 着信お知らせメール for the caller’s contract number', async ({ expect }) => {
    const record = await call('ivr-b-chakushin.xml', '0722221111');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722221111', caller: '0722221111', reason: null });
    expect(await h.tempPasswordState('0722221111')).toBe('realm=chakushin_mail state=valid');
  });

  it('1# FAXお知らせメール from the contract’s 認証用番号', async ({ expect }) => {
    const record = await call('ivr-b-fax-auth.xml', '0722229999');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'fax_mail', target: '0722223333', caller: '0722229999', reason: null });
    expect(await h.tempPasswordState('0722223333')).toBe('realm=fax_mail state=valid');
  });

  it('passwords without the required digit, or made only of it, are refused', async ({ expect }) => {
    const record = await call('ivr-b-password-digit.xml', '0722241111');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722241111', caller: '0722241111', reason: null });
    expect(await h.tempPasswordState('0722241111')).toBe('realm=chakushin_mail state=valid');
  });

  it('the key of a service the contract lacks is refused', async ({ expect }) => {
    const record = await call('ivr-b-missing-service.xml', '0722231111');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: '0722231111', caller: '0722231111', reason: null });
    // Exactly the mail realm: no fax_mail temp password was set.
    expect(await h.tempPasswordState('0722231111')).toBe('realm=chakushin_mail state=valid');
  });
});

it('never logs the passwords or numbers the callers typed', () => {
  const passwords = ['12345678', '13572468', '12346789', '55555555', '24681357', '86421357'];
  // Typed as keys only (never a caller in this file).
  const numbers = ['0722223333', '0722253333', '09012345678'];
  h.expectQuietLogs(6, [...passwords, ...numbers]);
});
