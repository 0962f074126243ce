// 認証単位変更 (001 p.11–13): the six transitions, who may make each, whose passwords it asks
// for, and what becomes of every number's password. Pure rules; the store applies the plan.
import { mayLogIn } from './auth-unit.ts';
import type { AuthUnit, ContractNumber } from './subscriber.ts';

export interface AuthUnitChangePlan {
  from: AuthUnit;
  to: AuthUnit;
  /** Numbers whose password must be entered, in the contract's order. */
  passwordsOf: string[];
  /** The entered password of `source` becomes the password of each of `to`. */
  copy?: { source: string; to: string[] };
  /** Numbers whose password becomes invalid (追加電話番号利用時のパスワードは無効). */
  drop: string[];
}

export type AuthUnitChangeRefusal = 'same_unit' | 'main_only';

/**
 * The plan for `login` moving its contract from `from` to `to`, or why it may not.
 * - 管理者／ユーザ単位 → anything: only the 契約者回線番号 (001 p.12–13).
 * - From 電話番号単位 every number that may log in under it has its own password: all are asked.
 * - From 回線単位 or 管理者／ユーザ単位: the login's own password (the main number's).
 */
export function planAuthUnitChange(
  from: AuthUnit,
  to: AuthUnit,
  login: ContractNumber,
  contract: readonly ContractNumber[],
): AuthUnitChangePlan | AuthUnitChangeRefusal {
  if (from === to) return 'same_unit';
  if (from !== 'number' && login.role !== 'main') return 'main_only';
  const main = contract.find((n) => n.role === 'main')!;
  const additional = contract.filter((n) => n.role === 'additional').map((n) => n.number);
  const passwordsOf = from === 'number' ? contract.filter((n) => mayLogIn('number', n)).map((n) => n.number) : [login.number];
  const plan = { from, to, passwordsOf, drop: [] as string[] };
  switch (`${from}>${to}`) {
    case 'number>line':
      // The login number becomes the main number; the password, the one of the number that made the change.
      return { ...plan, copy: login.number === main.number ? undefined : { source: login.number, to: [main.number] }, drop: additional };
    case 'number>admin_user':
      // Each number keeps its own password.
      return plan;
    case 'line>number':
      // The 回線単位 password for the main number and every additional number that may log in
      // under 電話番号単位 (has a site service); the others (その他の追加電話番号) get a temp password by phone.
      return { ...plan, copy: { source: main.number, to: contract.filter((n) => n.role === 'additional' && mayLogIn('number', n)).map((n) => n.number) } };
    case 'line>admin_user':
      // 回線単位でログインした際のパスワードと同一のパスワードが全ての番号に設定されます。
      return { ...plan, copy: { source: main.number, to: additional } };
    case 'admin_user>number':
      // Each number keeps its password; numbers without one get a temp password by phone.
      return plan;
    default: // admin_user>line
      return { ...plan, drop: additional };
  }
}

/** Numbers that could log in before and cannot after: their sessions end. */
export function numbersLosingLogin(from: AuthUnit, to: AuthUnit, contract: readonly ContractNumber[]): string[] {
  return contract.filter((n) => mayLogIn(from, n) && !mayLogIn(to, n)).map((n) => n.number);
}
