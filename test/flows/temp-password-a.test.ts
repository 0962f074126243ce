import { describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { tempPasswordA, type TempPasswordAInput } from '../../flows/temp-password-a.ts';
import { contract, options, promptTrail, runA } from './scripted-caller.ts';

const MAIN = '0612340001';
const EXTRA = '0612340002';
const NO_MAIL = '0612340003';
const LONG = '05012340004';
const PW = '24681357';

const fromMain: TempPasswordAInput = { caller: { number: MAIN, role: 'main' }, contract: contract('A'), options };
const fromExtra: TempPasswordAInput = { caller: { number: EXTRA, role: 'additional' }, contract: contract('A'), options };

describe('pattern A: unit choice', () => {
  it('1 (回線単位) sets the password of the contract main number', async () => {
    const { output, record } = await runA(fromMain, ['1', PW, PW]);
    expect(promptTrail(record)).toEqual([
      'a_unit_menu',
      `#${MAIN}`,
      'a_enter_password_after_number',
      'a_confirm_password',
      `#${MAIN}`,
      'a_completed_after_number',
    ]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output).toEqual({ outcome: 'completed', unit: 'line', target: MAIN });
  });

  it('1 from an additional number still targets the main number', async () => {
    const { output, record } = await runA(fromExtra, ['1', PW, PW]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output).toEqual({ outcome: 'completed', unit: 'line', target: MAIN });
  });

  it('2 (電話番号単位) asks for the number, then sets that number', async () => {
    const { output, record } = await runA(fromMain, ['2', `${EXTRA}#`, PW, PW]);
    expect(promptTrail(record)).toEqual([
      'a_unit_menu',
      'a_enter_number',
      `#${EXTRA}`,
      'a_enter_password_after_number',
      'a_confirm_password',
      `#${EXTRA}`,
      'a_completed_after_number',
    ]);
    expect(record.stores).toEqual([{ targetNumber: EXTRA, password: PW, pattern: 'A', authUnit: 'number' }]);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: EXTRA });
  });

  it('2 accepts an 11-digit number with #', async () => {
    const { output } = await runA(fromMain, ['2', `${LONG}#`, PW, PW]);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: LONG });
  });

  it('2 accepts a number without # when the caller pauses', async () => {
    const { output } = await runA(fromMain, ['2', EXTRA, PW, PW]);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: EXTRA });
  });

  it('3 (管理者／ユーザ単位) from the main number asks which number', async () => {
    const { output, record } = await runA(fromMain, ['3', `${EXTRA}#`, PW, PW]);
    expect(promptTrail(record).slice(0, 3)).toEqual(['a_unit_menu', 'a_enter_number', `#${EXTRA}`]);
    expect(record.stores).toEqual([{ targetNumber: EXTRA, password: PW, pattern: 'A', authUnit: 'admin_user' }]);
    expect(output).toEqual({ outcome: 'completed', unit: 'admin_user', target: EXTRA });
  });

  it('3 from the main number may name the main number itself (管理者)', async () => {
    const { output } = await runA(fromMain, ['3', `${MAIN}#`, PW, PW]);
    expect(output).toEqual({ outcome: 'completed', unit: 'admin_user', target: MAIN });
  });

  it('3 from an additional number sets the caller’s own number without asking (ユーザ)', async () => {
    const { output, record } = await runA(fromExtra, ['3', PW, PW]);
    expect(promptTrail(record)).toEqual([
      'a_unit_menu',
      `#${EXTRA}`,
      'a_enter_password_after_number',
      'a_confirm_password',
      `#${EXTRA}`,
      'a_completed_after_number',
    ]);
    expect(record.stores).toEqual([{ targetNumber: EXTRA, password: PW, pattern: 'A', authUnit: 'admin_user' }]);
    expect(output).toEqual({ outcome: 'completed', unit: 'admin_user', target: EXTRA });
  });

  it('1 is invalid for a contract without a main number', async () => {
    const noMain = contract('A', { numbers: [{ number: EXTRA, role: 'additional', services: ['chakushin_mail'] }] });
    const { output, record } = await runA({ ...fromExtra, contract: noMain }, ['1', '1', '1']);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'unit_menu' });
    expect(record.stores).toEqual([]);
  });
});

describe('pattern A: unit menu failures', () => {
  it('asks for one key with the configured timeouts', async () => {
    const { record } = await runA(fromMain, ['1', PW, PW]);
    expect(record.asks[0]).toEqual({
      prompts: [{ prompt: 'a_unit_menu' }],
      collect: { max: 1, dropAfterMax: { keys: ['#'], withinMs: 1500 }, firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000 },
      flushBuffered: false,
    });
  });

  it('one wrong key: a_invalid, the menu again, then success', async () => {
    const { output, record } = await runA(fromMain, ['4', '1', PW, PW]);
    expect(promptTrail(record).slice(0, 3)).toEqual(['a_unit_menu', 'a_invalid', 'a_unit_menu']);
    expect(record.asks[1]!.flushBuffered).toBe(true);
    expect(output.outcome).toBe('completed');
  });

  it('two failures (wrong key, then silence) then success', async () => {
    const { output, record } = await runA(fromMain, ['#', '', '2', `${EXTRA}#`, PW, PW]);
    expect(promptTrail(record).slice(0, 6)).toEqual(['a_unit_menu', 'a_invalid', 'a_unit_menu', 'a_invalid', 'a_unit_menu', 'a_enter_number']);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: EXTRA });
  });

  it('three failures end the call with a_three_strikes and nothing stored', async () => {
    const { output, record } = await runA(fromMain, ['9', '*', '0']);
    expect(promptTrail(record)).toEqual(['a_unit_menu', 'a_invalid', 'a_unit_menu', 'a_invalid', 'a_unit_menu', 'a_three_strikes']);
    expect(record.heard.at(-1)!.kind).toBe('say');
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'unit_menu' });
  });

  it('three timeouts (no key at all) end the call', async () => {
    const { output, record } = await runA(fromMain, ['', '', '']);
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'unit_menu' });
  });

  it('honours ivr.maxAttempts', async () => {
    const { output, record } = await runA({ ...fromMain, options: { ...options, maxAttempts: 1 } }, ['5']);
    expect(promptTrail(record)).toEqual(['a_unit_menu', 'a_three_strikes']);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'unit_menu' });
  });
});

describe('pattern A: number entry', () => {
  it('asks for 10–11 digits ended by #', async () => {
    const { record } = await runA(fromMain, ['2', `${EXTRA}#`, PW, PW]);
    expect(record.asks[1]!.collect).toMatchObject({ max: 12, terminators: ['#'] });
  });

  it('a number of another contract is invalid', async () => {
    const { output, record } = await runA(fromMain, ['2', '0699999999#', `${EXTRA}#`, PW, PW]);
    expect(promptTrail(record).slice(1, 4)).toEqual(['a_enter_number', 'a_invalid', 'a_enter_number']);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: EXTRA });
  });

  it('a contract number without 着信/FAXお知らせメール is invalid; two failures then success', async () => {
    const { output, record } = await runA(fromMain, ['2', `${NO_MAIL}#`, '0612#', `${MAIN}#`, PW, PW]);
    expect(promptTrail(record).slice(1, 6)).toEqual(['a_enter_number', 'a_invalid', 'a_enter_number', 'a_invalid', 'a_enter_number']);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: MAIN });
  });

  it('three failures end the call; admin unit recorded', async () => {
    const { output, record } = await runA(fromMain, ['3', '0699999999#', '', `${NO_MAIL}#`]);
    expect(promptTrail(record).at(-1)).toBe('a_three_strikes');
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', unit: 'admin_user', failedStep: 'enter_number' });
  });

  it('too many digits are invalid and leftovers are flushed before the retry', async () => {
    // 12 digits reach max; the '#' stays buffered and must not be read as the retry.
    const { output, record } = await runA(fromMain, ['2', '061234000299#', `${EXTRA}#`, PW, PW]);
    expect(record.asks[2]!.flushBuffered).toBe(true);
    expect(output).toEqual({ outcome: 'completed', unit: 'number', target: EXTRA });
  });
});

describe('pattern A: password entry', () => {
  it('asks for 8 digits, ending at the 8th; a # right after it is dropped (entry and confirmation alike)', async () => {
    const { record } = await runA(fromMain, ['1', PW, PW]);
    const eightDigits = {
      max: 8,
      terminators: ['#'],
      dropAfterMax: { keys: ['#'], withinMs: 1500 },
      firstDigitTimeoutMs: 5000,
      interDigitTimeoutMs: 3000,
    };
    expect(record.asks[1]!.collect).toEqual(eightDigits);
    expect(record.asks[2]!.collect).toEqual(eightDigits);
  });

  it('a caller who types ahead: both entries in one go complete the call (keys beyond the 8th are the confirmation)', async () => {
    const { output, record } = await runA(fromMain, ['1', `${PW}${PW}`]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('a # by habit between type-ahead entries is dropped; other keys typed ahead are kept', async () => {
    const { output, record } = await runA(fromMain, ['1', `${PW}#${PW}#`]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('a 9th digit is no part of the password: it starts the confirmation', async () => {
    const { output, record } = await runA(fromMain, ['1', `${PW}1`, '1111111', PW]);
    expect(promptTrail(record).slice(3, 6)).toEqual(['a_confirm_password', 'a_invalid', 'a_confirm_password']);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('8 digits then # by habit is accepted, and the # does not spill into the confirmation', async () => {
    const { output, record } = await runA(fromMain, ['1', `${PW}#`, `${PW}#`]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('7 digits ended by #, then 7 digits and a pause: two failures, then success', async () => {
    const { output, record } = await runA(fromMain, ['1', '1234567#', '1234567', PW, PW]);
    expect(promptTrail(record).slice(1, 9)).toEqual([
      `#${MAIN}`,
      'a_enter_password_after_number',
      'a_invalid',
      `#${MAIN}`,
      'a_enter_password_after_number',
      'a_invalid',
      `#${MAIN}`,
      'a_enter_password_after_number',
    ]);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('non-digits and timeouts count as failures; the third ends the call', async () => {
    const { output, record } = await runA(fromExtra, ['3', '1234*678', '', '12']);
    expect(promptTrail(record).at(-1)).toBe('a_three_strikes');
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', unit: 'admin_user', target: EXTRA, failedStep: 'enter_password' });
  });
});

describe('pattern A: confirmation', () => {
  it('a mismatch re-asks the confirmation only, then a match stores the first entry', async () => {
    const { output, record } = await runA(fromMain, ['1', PW, '11111111', PW]);
    expect(promptTrail(record).slice(3, 6)).toEqual(['a_confirm_password', 'a_invalid', 'a_confirm_password']);
    expect(record.stores).toEqual([{ targetNumber: MAIN, password: PW, pattern: 'A', authUnit: 'line' }]);
    expect(output.outcome).toBe('completed');
  });

  it('two mismatches (one a timeout) then a match', async () => {
    const { output, record } = await runA(fromMain, ['1', PW, '', '2468135', PW]);
    expect(record.stores).toHaveLength(1);
    expect(output.outcome).toBe('completed');
  });

  it('three mismatches end the call, nothing stored', async () => {
    const { output, record, snapshot } = await runA(fromMain, ['1', PW, '11111111', '22222222', '33333333']);
    expect(promptTrail(record).at(-1)).toBe('a_three_strikes');
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', unit: 'line', target: MAIN, failedStep: 'confirm_password' });
    expect(snapshot.context.password).toBeNull();
  });
});

describe('pattern A: storing and the end of the call', () => {
  it('a store failure ends the call with the system-unavailable guidance, not the completion prompt', async () => {
    const { output, record, snapshot } = await runA(fromMain, ['1', PW, PW], { storeFails: true });
    expect(record.stores).toHaveLength(1);
    expect(promptTrail(record)).not.toContain('a_completed_after_number');
    expect(promptTrail(record).at(-1)).toBe('system_unavailable');
    expect(output).toEqual({ outcome: 'store_failed', unit: 'line', target: MAIN, failedStep: 'store' });
    expect(snapshot.context.password).toBeNull();
  });

  it('the password is in neither the output nor the final snapshot', async () => {
    const { output, snapshot } = await runA(fromMain, ['1', PW, PW]);
    expect(JSON.stringify(output)).not.toContain(PW);
    expect(JSON.stringify(snapshot.context)).not.toContain(PW);
  });

  it('a hang-up during the completion prompt is still completed', async () => {
    const { output } = await runA(fromMain, ['1', PW, PW], { sayFails: true });
    expect(output).toEqual({ outcome: 'completed', unit: 'line', target: MAIN });
  });

  it('a hang-up mid-question ends with caller_hung_up at that step, nothing stored', async () => {
    const { output, record, snapshot } = await runA(fromMain, ['2', `${EXTRA}#`, PW]);
    expect(record.stores).toEqual([]);
    expect(output).toEqual({ outcome: 'caller_hung_up', unit: 'number', target: EXTRA, failedStep: 'confirm_password' });
    expect(JSON.stringify(snapshot.context)).not.toContain(PW);
  });

  it('without provided actors the machine errors loudly', async () => {
    const actor = createActor(tempPasswordA, { input: fromMain });
    const done = toPromise(actor);
    actor.start();
    await expect(done).rejects.toThrow(/ask actor not provided/);
  });
});
