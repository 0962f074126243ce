// 認証単位: who may log in to the settings site, and which numbers a login may set
// (000 p.125, 001 p.5–6). The words (AuthUnit, ContractNumber…) are in subscriber.ts.
// - 回線単位 (line): only the 契約者回線番号 logs in; it sets every number of the contract.
// - 電話番号単位 (number): any number with a site service logs in; it sets only itself.
// - 管理者／ユーザ単位 (admin_user): the main number logs in as 管理者 and sets every number;
//   an additional number with a site service logs in as ユーザ and sets only itself.
import { SITE_SERVICES, subscribesAny, type AuthUnit, type ContractNumber } from './subscriber.ts';

/** Whether `login` may log in under `unit`. */
export function mayLogIn(unit: AuthUnit, login: ContractNumber): boolean {
  if (login.role === 'main' && unit !== 'number') return true;
  if (unit === 'line') return false;
  return subscribesAny(login, SITE_SERVICES);
}

/** The numbers a login may set, in the contract's order. Empty when it may not log in at all. */
export function numbersInScope(unit: AuthUnit, login: ContractNumber, contract: readonly ContractNumber[]): ContractNumber[] {
  if (!mayLogIn(unit, login)) return [];
  if (unit !== 'number' && login.role === 'main') return [...contract];
  return contract.filter((n) => n.number === login.number);
}

/** 管理者 or ユーザ in 管理者／ユーザ単位; undefined in the other units. */
export function adminUserRole(unit: AuthUnit, login: ContractNumber): '管理者' | 'ユーザ' | undefined {
  if (unit !== 'admin_user') return undefined;
  return login.role === 'main' ? '管理者' : 'ユーザ';
}

/** Whose password a login may change: its own, and in 管理者／ユーザ単位 the 管理者 every number's. */
export function passwordScope(unit: AuthUnit, login: ContractNumber, contract: readonly ContractNumber[]): ContractNumber[] {
  if (!mayLogIn(unit, login)) return [];
  if (unit === 'admin_user' && login.role === 'main') return [...contract];
  return [login];
}
