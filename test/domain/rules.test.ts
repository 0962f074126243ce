import { describe, expect, it } from 'vitest';
import { adminUserRole, mayLogIn, numbersInScope, passwordScope } from '../../src/domain/auth-unit.ts';
import type { ContractNumber } from '../../src/domain/subscriber.ts';
import { mailAddressProblem, mailAddressRefusal } from '../../src/domain/mail-address.ts';
import { passwordRefusal } from '../../src/domain/password.ts';
import { isNationalNumber } from '../../src/domain/phone-number.ts';

describe('national number', () => {
  it('is 0 and 9–10 digits without hyphens', () => {
    expect(isNationalNumber('0611112222')).toBe(true);
    expect(isNationalNumber('09012345678')).toBe(true);
    for (const bad of ['06-1111-2222', '611112222', '061111222', '061111222233', '', 1234567890]) expect(isNationalNumber(bad)).toBe(false);
  });
});

describe('mail address', () => {
  it.each([
    ['', 'empty'],
    [`${'a'.repeat(60)}@${'b'.repeat(197)}`, 'too_long'],
    ['a@b@c.jp', 'at_count'],
    ['abc.jp', 'at_count'],
    ['@abc.jp', 'at_edge'],
    ['abc@', 'at_edge'],
    ['ab(c)@x.jp', 'local_chars'],
    ['あ@x.jp', 'local_chars'],
    ['abc@x_y.jp', 'domain_chars'],
    ['abc@x.jp.', 'domain_trailing_dot'],
    ['abc..def@ntt-east.jp', 'double_dot'],
    ['abc@x..jp', 'double_dot'],
    ['abcdef.@ntt-east.jp', 'dot_edge'],
    ['.abcdef@ntt-east.jp', 'dot_edge'],
    [`${'a'.repeat(64)}@x.jp`, 'local_too_long'],
  ])('refuses %j as %s', (address, refusal) => {
    expect(mailAddressRefusal(address)).toBe(refusal);
    expect(mailAddressProblem(address)).toEqual(expect.any(String));
  });

  it("accepts every character the guide allows, 63 before the @ and 256 in all", () => {
    expect(mailAddressRefusal("0-9_A.Z-a!z$%'*+/?^#@ntt-west.co.jp")).toBeUndefined();
    expect(mailAddressRefusal(`${'a'.repeat(63)}@x.jp`)).toBeUndefined();
    expect(mailAddressRefusal(`${'a'.repeat(63)}@${'b'.repeat(189)}.jp`)).toBeUndefined();
    expect(`${'a'.repeat(63)}@${'b'.repeat(189)}.jp`).toHaveLength(256);
  });
});

describe('password', () => {
  const ctx = { sameAsCurrent: false, contractNumbers: ['0611112222', '0651829374'] };
  it.each([
    ['abc12x7', 'length'],
    ['abc12x7qwe9zt', 'length'],
    ['abc12x7-', 'characters'],
    ['ａｂｃ12x7q', 'characters'],
    ['58204719', 'digits_only'],
    ['ab0000x7', 'repeated_run'],
    ['xaaaa7q9', 'repeated_run'],
    ['x1234q9z', 'sequence_run'],
    ['q9abcdz1', 'sequence_run'],
    ['q9dcbaz1', 'sequence_run'],
    ['q9ABCDz1', 'sequence_run'],
    ['z9876q1x', 'sequence_run'],
    ['a0651829374', 'contains_number'],
  ])('refuses %s as %s', (pw, refusal) => {
    expect(passwordRefusal(pw, ctx)).toBe(refusal);
  });

  it('refuses the current password and accepts a good one', () => {
    expect(passwordRefusal('k7q2m9x4', { ...ctx, sameAsCurrent: true })).toBe('same_as_current');
    expect(passwordRefusal('k7q2m9x4', ctx)).toBeUndefined();
    expect(passwordRefusal('abc1aaa2bcd', ctx)).toBeUndefined();
    expect(passwordRefusal('Ab12Ab12Ab12', ctx)).toBeUndefined();
  });
});

describe('auth unit', () => {
  const main: ContractNumber = { number: '0611112222', role: 'main', services: ['chakushin_mail'] };
  const extra: ContractNumber = { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] };
  const bare: ContractNumber = { number: '0611114444', role: 'additional', services: ['number_request'] };
  const contract = [main, extra, bare];
  const nums = (l: ContractNumber[]) => l.map((n) => n.number);

  it('回線単位: only the main number logs in and sets every number', () => {
    expect(mayLogIn('line', main)).toBe(true);
    expect(mayLogIn('line', extra)).toBe(false);
    expect(nums(numbersInScope('line', main, contract))).toEqual(nums(contract));
    expect(numbersInScope('line', extra, contract)).toEqual([]);
    expect(adminUserRole('line', main)).toBeUndefined();
  });

  it('電話番号単位: a number with a site service logs in and sets only itself', () => {
    expect(nums(numbersInScope('number', main, contract))).toEqual([main.number]);
    expect(nums(numbersInScope('number', extra, contract))).toEqual([extra.number]);
    expect(mayLogIn('number', bare)).toBe(false);
    expect(nums(passwordScope('number', main, contract))).toEqual([main.number]);
  });

  it('管理者／ユーザ単位: main is 管理者 over every number, an additional number is ユーザ over itself', () => {
    expect(adminUserRole('admin_user', main)).toBe('管理者');
    expect(adminUserRole('admin_user', extra)).toBe('ユーザ');
    expect(nums(numbersInScope('admin_user', main, contract))).toEqual(nums(contract));
    expect(nums(numbersInScope('admin_user', extra, contract))).toEqual([extra.number]);
    expect(nums(passwordScope('admin_user', main, contract))).toEqual(nums(contract));
    expect(nums(passwordScope('admin_user', extra, contract))).toEqual([extra.number]);
    expect(mayLogIn('admin_user', bare)).toBe(false);
  });
});
