// The subscriber model's words, declared here and nowhere else: 契約 (contract), its numbers
// (契約者回線番号 / 追加番号 and pattern B's 認証用番号), 認証単位, region, pattern and the option
// services. Provisioning, the IVR, notify, mail and the sites import them from here.

/** NTT東日本 / NTT西日本: which 仮パスワード設定番号, mail footers and site names a contract gets. */
export const REGIONS = ['east', 'west'] as const;
export type Region = (typeof REGIONS)[number];

/**
 * Which generation of the settings site a contract uses: A ひかり電話設定サイト (one password per login,
 * 認証単位), B サービス設定ホームページ (one password per number and service). 設備変更工事 moves B to A.
 */
export const PATTERNS = ['A', 'B'] as const;
export type Pattern = (typeof PATTERNS)[number];

/**
 * 認証単位 of the ひかり電話設定サイト (000 p.125, 001 p.5–6): 回線単位 (line), 電話番号単位 (number),
 * 管理者／ユーザ単位 (admin_user). Who may log in under each is in auth-unit.ts.
 */
export const AUTH_UNITS = ['line', 'number', 'admin_user'] as const;
export type AuthUnit = (typeof AUTH_UNITS)[number];
export const AUTH_UNIT_NAMES: Record<AuthUnit, string> = { line: '回線単位', number: '電話番号単位', admin_user: '管理者／ユーザ単位' };

/** 契約者回線番号 (main) or 追加番号 (additional). */
export const NUMBER_ROLES = ['main', 'additional'] as const;
export type NumberRole = (typeof NUMBER_ROLES)[number];

/**
 * The option services a number may subscribe: 着信お知らせメール, FAXお知らせメール, ボイスワープ,
 * ナンバー・リクエスト, 迷惑電話おことわり.
 */
export const SERVICES = ['chakushin_mail', 'fax_mail', 'voice_warp', 'number_request', 'nuisance_block'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Services configured on the settings site (the others are network features set elsewhere). */
export const SITE_SERVICES = ['chakushin_mail', 'fax_mail', 'voice_warp'] as const satisfies readonly ServiceName[];

/**
 * The mail services: pattern B gives each its own password (the legacy site's realms) and the pattern B
 * IVR sets a temp password per service; pattern A's IVR serves a number that has one of them.
 */
export const MAIL_SERVICES = ['chakushin_mail', 'fax_mail'] as const satisfies readonly ServiceName[];
export type MailService = (typeof MAIL_SERVICES)[number];

export interface ContractNumber {
  number: string;
  role: NumberRole;
  /** Subscribed services (ServiceName values, as stored). */
  services: readonly string[];
}

/** 契約: one subscriber's numbers and how they log in. */
export interface Contract {
  id: string;
  region: Region;
  pattern: Pattern;
  /** 認証単位: how the ひかり電話設定サイト logs this contract in (kept for pattern B too, for after 設備変更工事). */
  authUnit: AuthUnit;
  /** Every number of the contract, main first. */
  numbers: readonly ContractNumber[];
  /** 認証用番号 (pattern B): numbers registered to dial the IVR on the contract's behalf. */
  authNumbers: readonly string[];
}

/** Whether a number subscribes one of `services`. */
export function subscribesAny(n: ContractNumber, services: readonly ServiceName[]): boolean {
  return n.services.some((s) => (services as readonly string[]).includes(s));
}
