// 仮パスワード設定 pattern A, the paths that set a password: every 認証単位, both regions,
// keys by RFC 2833 and by SIP INFO, UDP and TCP. Calls run side by side on one service.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile();

const call = h.call;

// Each call states the entries its caller types (the SIPp scenario is checked to type exactly those).

describe.concurrent('temp-password IVR, pattern A', () => {
  it('回線単位: sets the main number’s temp password', async ({ expect }) => {
    const record = await call('ivr-a-line.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, typed: ['1', '12345678#', '12345678#'] });
    expect(record).toMatchObject({
      outcome: 'completed', pattern: 'A', unit: 'line', target: '0611112222', caller: '0611112222', access_number: ACCESS.A_WEST, reason: null,
    });
    expect(await h.tempPasswordState('0611112222')).toBe('realm=site unit=line state=valid');
  });

  it('電話番号単位: sets the temp password of the number the caller names', async ({ expect }) => {
    const record = await call('ivr-a-number.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, typed: ['2', '0611113333#', '12345678#', '12345678#'] });
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'number', target: '0611113333', caller: '0611112222', reason: null });
    expect(await h.tempPasswordState('0611113333')).toBe('realm=site unit=number state=valid');
  });

  it('管理者／ユーザ単位 from the main number: asks the number and sets it', async ({ expect }) => {
    const record = await call('ivr-a-admin-main.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, typed: ['3', '0611115555#', '24681357#', '24681357#'] });
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'admin_user', target: '0611115555', caller: '0611112222', reason: null });
    expect(await h.tempPasswordState('0611115555')).toBe('realm=site unit=admin_user state=valid');
  });

  it('管理者／ユーザ単位 from an additional number: no question, the caller’s own number', async ({ expect }) => {
    const record = await call('ivr-a-admin-additional.xml', { caller: '0611116666', dialled: ACCESS.A_WEST, typed: ['3', '13572468#', '13572468#'] });
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'admin_user', target: '0611116666', caller: '0611116666', reason: null });
    expect(await h.tempPasswordState('0611116666')).toBe('realm=site unit=admin_user state=valid');
  });

  it('east access number over TCP: 回線単位 for the east contract', async ({ expect }) => {
    const record = await call('ivr-a-line.xml', { caller: '0355556666', dialled: ACCESS.A_EAST, typed: ['1', '12345678#', '12345678#'], transport: 'tcp' });
    expect(record).toMatchObject({
      outcome: 'completed', pattern: 'A', unit: 'line', target: '0355556666', caller: '0355556666', access_number: ACCESS.A_EAST, reason: null,
    });
    expect(await h.tempPasswordState('0355556666')).toBe('realm=site unit=line state=valid');
  });

  it('keys by SIP INFO (application/dtmf-relay) drive the whole flow', async ({ expect }) => {
    const record = await call('ivr-a-info.xml', { caller: '0355557777', dialled: ACCESS.A_EAST, typed: ['3', '86421357#', '86421357#'] });
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'admin_user', target: '0355557777', caller: '0355557777', reason: null });
    expect(await h.tempPasswordState('0355557777')).toBe('realm=site unit=admin_user state=valid');
  });
});

// After the calls above (a sequential test waits for the concurrent group before it).
h.closingChecks();
