import { describe, expect, it } from 'vitest';
import { isPatternBPassword, type TempPasswordBInput } from '../../flows/temp-password-b.ts';
import { contract, options, promptTrail, runB } from './scripted-caller.ts';

const MAIN = '0612340001';
const EXTRA = '0612340002';
const NO_MAIL = '0612340003';
const FAX_ONLY = '05012340004';
const PW = '12345670'; // contains the required 5
const bOptions = { ...options, requiredDigit: '5' };

const fromMain: TempPasswordBInput = { caller: { number: MAIN, role: 'main' }, contract: contract('B'), options: bOptions };
const fromAuth: TempPasswordBInput = { caller: { number: '0612349999', role: 'auth' }, contract: contract('B'), options: bOptions };

const ASK_PASSWORD = ['b_enter_password_before_digit', '#5', 'b_enter_password_after_digit'];
const THREE_STRIKES_AT_MENU = ['b_service_menu', 'b_invalid', 'b_service_menu', 'b_invalid', 'b_service_menu', 'b_three_strikes'];

describe('pattern B: the happy paths', () => {
  it('0# (着信お知らせメール), number, password twice: stored and announced', async () => {
    const { output, record } = await runB(fromMain, ['0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(promptTrail(record)).toEqual(['b_service_menu', 'b_enter_number', ...ASK_PASSWORD, 'b_confirm_password', 'b_completed']);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'B', service: 'chakushin_mail' }]);
    expect(output).toEqual({ outcome: 'completed', service: 'chakushin_mail', target: MAIN });
  });

  it('1# (FAXお知らせメール) for an 11-digit number, dialled from an 認証用番号', async () => {
    const { output, record } = await runB(fromAuth, ['1#', `${FAX_ONLY}#`, `${PW}#`, `${PW}#`]);
    expect(record.stores).toEqual([{ targetNumber: FAX_ONLY, password: PW, pattern: 'B', service: 'fax_mail' }]);
    expect(output).toEqual({ outcome: 'completed', service: 'fax_mail', target: FAX_ONLY });
  });

  it('collects menu, number and password with # as terminator', async () => {
    const { record } = await runB(fromMain, ['0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(record.asks.map((a) => a.collect)).toEqual([
      { max: 2, terminators: ['#'], firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 },
      { max: 12, terminators: ['#'], firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 },
      { max: 9, terminators: ['#'], firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 },
      { max: 9, terminators: ['#'], firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 },
    ]);
  });

  it('reads out the configured required digit', async () => {
    const { record } = await runB({ ...fromMain, options: { ...bOptions, requiredDigit: '7' } }, ['0#', `${MAIN}#`, '12345670#', '12345670#']);
    expect(promptTrail(record)).toContain('#7');
    expect(record.stores).toHaveLength(1);
  });
});

describe('pattern B: service menu', () => {
  it('a service the contract does not subscribe is invalid', async () => {
    const noFax = contract('B', { numbers: [{ number: MAIN, role: 'main', services: ['chakushin_mail'] }] });
    const { output, record } = await runB({ ...fromMain, contract: noFax }, ['1#', '0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(promptTrail(record).slice(0, 4)).toEqual(['b_service_menu', 'b_invalid', 'b_service_menu', 'b_enter_number']);
    expect(output).toEqual({ outcome: 'completed', service: 'chakushin_mail', target: MAIN });
  });

  it('two failures (wrong key, silence) then success', async () => {
    const { output } = await runB(fromMain, ['2#', '', '0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(output.outcome).toBe('completed');
  });

  it('three failures: b_three_strikes, back to the menu with fresh counters', async () => {
    const { output, record } = await runB(fromMain, ['9#', '01#', '#', '0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    const trail = promptTrail(record);
    expect(trail.slice(0, 7)).toEqual([...THREE_STRIKES_AT_MENU, 'b_service_menu']);
    expect(trail[7]).toBe('b_enter_number');
    expect(record.asks[3]).toMatchObject({ prompts: [{ prompt: 'b_service_menu' }], flushBuffered: true });
    expect(output).toEqual({ outcome: 'completed', service: 'chakushin_mail', target: MAIN });
  });

  it('after the restart, two more failures are still allowed (fresh counters)', async () => {
    const { output, record } = await runB(fromMain, ['9#', '9#', '9#', '8#', '8#', '0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(promptTrail(record).filter((p) => p === 'b_three_strikes')).toHaveLength(1);
    expect(output.outcome).toBe('completed');
  });

  it('three failures twice: the call ends (default: one restart), nothing stored', async () => {
    const { output, record } = await runB(fromMain, ['9#', '9#', '9#', '9#', '9#', '9#']);
    expect(promptTrail(record)).toEqual([...THREE_STRIKES_AT_MENU, ...THREE_STRIKES_AT_MENU]);
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'service_menu' });
  });

  it('maxRestarts 0 ends at the first three strikes; maxRestarts 2 allows two restarts', async () => {
    const none = await runB({ ...fromMain, options: { ...bOptions, maxRestarts: 0 } }, ['9#', '9#', '9#']);
    expect(promptTrail(none.record)).toEqual(THREE_STRIKES_AT_MENU);
    expect(none.output.outcome).toBe('failed_3_strikes');

    const two = await runB({ ...fromMain, options: { ...bOptions, maxRestarts: 2 } }, Array(9).fill('9#'));
    expect(promptTrail(two.record).filter((p) => p === 'b_three_strikes')).toHaveLength(3);
    expect(two.output.outcome).toBe('failed_3_strikes');
  });
});

describe('pattern B: number entry', () => {
  it('a number not subscribing the chosen service is invalid; a foreign number too', async () => {
    // FAX_ONLY has no 着信お知らせメール; NO_MAIL has no mail service; 0699999999 is another contract's.
    const { output, record } = await runB(fromMain, ['0#', `${FAX_ONLY}#`, '0699999999#', `${EXTRA}#`, `${PW}#`, `${PW}#`]);
    expect(promptTrail(record).slice(1, 6)).toEqual(['b_enter_number', 'b_invalid', 'b_enter_number', 'b_invalid', 'b_enter_number']);
    expect(output).toEqual({ outcome: 'completed', service: 'chakushin_mail', target: EXTRA });
  });

  it('three failures restart from the service menu with nothing kept', async () => {
    const { output, record } = await runB(fromMain, ['0#', `${NO_MAIL}#`, '', '123#', '1#', `${FAX_ONLY}#`, `${PW}#`, `${PW}#`]);
    const trail = promptTrail(record);
    expect(trail.slice(0, 8)).toEqual([
      'b_service_menu',
      'b_enter_number',
      'b_invalid',
      'b_enter_number',
      'b_invalid',
      'b_enter_number',
      'b_three_strikes',
      'b_service_menu',
    ]);
    expect(record.stores).toEqual([{ targetNumber: FAX_ONLY, password: PW, pattern: 'B', service: 'fax_mail' }]);
    expect(output).toEqual({ outcome: 'completed', service: 'fax_mail', target: FAX_ONLY });
  });
});

describe('pattern B: password rules', () => {
  it('isPatternBPassword: 8 digits, containing the digit, not only the digit', () => {
    expect(isPatternBPassword('12345670', '5')).toBe(true);
    expect(isPatternBPassword('55555550', '5')).toBe(true);
    expect(isPatternBPassword('12346789', '5')).toBe(false);
    expect(isPatternBPassword('55555555', '5')).toBe(false);
    expect(isPatternBPassword('1234567', '5')).toBe(false);
    expect(isPatternBPassword('123456705', '5')).toBe(false);
    expect(isPatternBPassword('1234*670', '5')).toBe(false);
  });

  it('without the required digit, and all required digits: two failures, then success', async () => {
    const { output, record } = await runB(fromMain, ['0#', `${MAIN}#`, '12346789#', '55555555#', `${PW}#`, `${PW}#`]);
    expect(promptTrail(record).slice(2, 13)).toEqual([...ASK_PASSWORD, 'b_invalid', ...ASK_PASSWORD, 'b_invalid', ...ASK_PASSWORD]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'B', service: 'chakushin_mail' }]);
    expect(output.outcome).toBe('completed');
  });

  it('fewer or more than 8 digits, or silence, fail; the third restarts', async () => {
    const { output, record } = await runB(fromMain, ['0#', `${MAIN}#`, '1234567#', '123456705', '', '0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(promptTrail(record)).toContain('b_three_strikes');
    expect(record.stores).toHaveLength(1);
    expect(output.outcome).toBe('completed');
  });

  it('confirmation mismatch is re-asked; three mismatches twice end the call', async () => {
    const round = ['0#', `${MAIN}#`, `${PW}#`, '12345671#', '12345672#', '12345673#'];
    const { output, record, snapshot } = await runB(fromMain, [...round, ...round]);
    expect(promptTrail(record).slice(5, 10)).toEqual(['b_confirm_password', 'b_invalid', 'b_confirm_password', 'b_invalid', 'b_confirm_password']);
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', service: 'chakushin_mail', target: MAIN, failedStep: 'confirm_password' });
    expect(JSON.stringify(snapshot.context)).not.toContain(PW);
  });

  it('a mismatch then a match stores the first entry', async () => {
    const { output, record } = await runB(fromMain, ['0#', `${MAIN}#`, `${PW}#`, '12345671#', `${PW}#`]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'B', service: 'chakushin_mail' }]);
    expect(output.outcome).toBe('completed');
  });
});

describe('pattern B: storing and the end of the call', () => {
  it('a store failure ends the call with the system-unavailable guidance, not b_completed; password cleared', async () => {
    const { output, record, snapshot } = await runB(fromMain, ['0#', `${MAIN}#`, `${PW}#`, `${PW}#`], { storeFails: true });
    expect(record.stores).toHaveLength(1);
    expect(promptTrail(record)).not.toContain('b_completed');
    expect(promptTrail(record).at(-1)).toBe('system_unavailable');
    expect(output).toEqual({ outcome: 'store_failed', service: 'chakushin_mail', target: MAIN, failedStep: 'store' });
    expect(JSON.stringify(snapshot.context)).not.toContain(PW);
  });

  it('the password is in neither the output nor the final snapshot', async () => {
    const { output, snapshot } = await runB(fromMain, ['0#', `${MAIN}#`, `${PW}#`, `${PW}#`]);
    expect(JSON.stringify(output)).not.toContain(PW);
    expect(JSON.stringify(snapshot.context)).not.toContain(PW);
  });

  it('a hang-up during b_three_strikes ends the call as failed, not restarted', async () => {
    const { output, record } = await runB(fromMain, ['9#', '9#', '9#', '0#'], { sayFails: true });
    expect(record.asks).toHaveLength(3);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'service_menu' });
  });

  it('a hang-up mid-question ends with caller_hung_up, nothing stored', async () => {
    const { output, record } = await runB(fromMain, ['1#']);
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'caller_hung_up', service: 'fax_mail', failedStep: 'enter_number' });
  });
});
