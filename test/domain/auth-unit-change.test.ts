// 認証単位変更's plan (src/domain/auth-unit-change.ts): whose passwords are asked, copied and
// dropped, and who loses their login (the browser suite test/site/auth-unit-change.test.ts covers the screens).
import { describe, expect, it } from 'vitest';
import { numbersLosingLogin, planAuthUnitChange } from '../../src/domain/auth-unit-change.ts';
import type { ContractNumber } from '../../src/domain/subscriber.ts';

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

