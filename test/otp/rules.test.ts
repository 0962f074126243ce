// The pure rules behind the OTP and 認証単位変更 pages (the browser suites cover the screens; the
// form's maxlength keeps a person from typing 13 characters, so the server's own limit is checked here).
import { describe, expect, it } from 'vitest';
import { numbersLosingLogin, planAuthUnitChange } from '../../src/domain/auth-unit-change.ts';
import type { ContractNumber } from '../../src/domain/subscriber.ts';
import { checkIdRefusal, checkPasswordRefusal } from '../../src/domain/otp.ts';

describe('確認用ID / 確認用パスワード', () => {
  it('refuses 13 characters and accepts 8 and 12', () => {
    expect(checkIdRefusal('Abcdefgh12345')).toBe('length');
    expect(checkPasswordRefusal('abcd12345678x')).toBe('length');
    expect(checkIdRefusal('Abcdefgh')).toBeUndefined();
    expect(checkIdRefusal('abcdefgh1234')).toBeUndefined();
    expect(checkPasswordRefusal('abcdefgh1234')).toBeUndefined();
    expect(checkIdRefusal('ａｂｃｄｅｆｇ１')).toBe('characters');
  });
});

describe('planAuthUnitChange', () => {
  const main: ContractNumber = { number: '0311110001', role: 'main', services: ['chakushin_mail'] };
  const extra: ContractNumber = { number: '0311110002', role: 'additional', services: ['chakushin_mail'] };
  const bare: ContractNumber = { number: '0311110003', role: 'additional', services: ['number_request'] };
  const contract = [main, extra, bare];

  it('from 電話番号単位 asks every number with a site service; from the others, the login\'s own', () => {
    expect(planAuthUnitChange('number', 'line', extra, contract)).toEqual({ from: 'number', to: 'line', passwordsOf: [main.number, extra.number], copy: { source: extra.number, to: [main.number] }, drop: [extra.number, bare.number] });
    expect(planAuthUnitChange('number', 'line', main, contract)).toMatchObject({ copy: undefined });
    expect(planAuthUnitChange('line', 'admin_user', main, contract)).toEqual({ from: 'line', to: 'admin_user', passwordsOf: [main.number], copy: { source: main.number, to: [extra.number, bare.number] }, drop: [] });
    expect(planAuthUnitChange('line', 'number', main, contract)).toMatchObject({ copy: { source: main.number, to: [extra.number] }, drop: [] });
  });

  it('管理者／ユーザ単位 → anything only from the main number; the same unit is no change', () => {
    expect(planAuthUnitChange('admin_user', 'line', extra, contract)).toBe('main_only');
    expect(planAuthUnitChange('admin_user', 'number', extra, contract)).toBe('main_only');
    expect(planAuthUnitChange('line', 'line', main, contract)).toBe('same_unit');
    expect(planAuthUnitChange('admin_user', 'line', main, contract)).toMatchObject({ passwordsOf: [main.number], drop: [extra.number, bare.number] });
  });

  it('names the numbers that lose their login', () => {
    expect(numbersLosingLogin('number', 'line', contract)).toEqual([extra.number]);
    expect(numbersLosingLogin('admin_user', 'number', contract)).toEqual([]);
    expect(numbersLosingLogin('line', 'number', contract)).toEqual([]);
  });
});

describe('CSV', async () => {
  const { parseCsv, writeCsv, decodeCsvFile, escapeCell, unescapeCell, CsvSyntaxError } = await import('../../src/site/bulk/csv.ts');
  it('reads quoted separators, doubled quotes and line breaks inside quotes, with each record\'s first line', () => {
    expect(parseCsv('"a,b","c""d"\r\n\r\n"e\r\nf",g\nh')).toEqual([
      { line: 1, cells: ['a,b', 'c"d'] },
      { line: 3, cells: ['e\r\nf', 'g'] },
      { line: 5, cells: ['h'] },
    ]);
    expect(() => parseCsv('"a,\r\nb')).toThrow(CsvSyntaxError);
  });
  it('escapes formula-like cells on the way out and undoes it on the way in', () => {
    for (const v of ['=1+1', '+81', '-x@example.jp', '@SUM(A1)']) expect(unescapeCell(escapeCell(v))).toBe(v);
    expect(escapeCell('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")');
    expect(escapeCell('0311112222')).toBe('0311112222');
    const out = writeCsv([['a"b', '=c']]);
    expect(decodeCsvFile(out)).toBe('"a""b","\'=c"\r\n');
  });
});
