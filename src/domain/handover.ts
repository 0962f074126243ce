// 設備変更工事 (pattern B → A): what the subscriber must do to carry the legacy site's passwords
// over to the new site (000 p.123–124, the table of cases 1–4, reconstructed in the README).
// The legacy site had one password per number and service (着信お知らせメール, FAXお知らせメール),
// 4–8 characters; the new site has one password per 認証単位, 8–12 characters with more rules.
// The old passwords in the chosen unit's scope (回線単位: every number of the contract; the
// other units: the login number) are proven one by one; then:
//   1 不要: one password (all the same), meeting the new rules, nothing locked, no temp password
//           → it becomes the new site's password as it is.
//   2 新規パスワード登録: one password, but shorter than 8 / not meeting the new rules, or a temp
//           password, or one of them locked → a new 8–12 password now.
//   3 パスワード統合: different passwords, at least one meeting the new rules, none locked, no temp
//           → the subscriber keeps one of those that meet the new rules.
//   4 パスワード統合 + 新規パスワード登録: different passwords, and none of them may be kept (or
//           one is a temp password, or one is locked) → a new 8–12 password now.

export type HandoverCase = 1 | 2 | 3 | 4;

export const HANDOVER_CASE_NAMES: Record<HandoverCase, string> = {
  1: '不要',
  2: '新規パスワード登録',
  3: 'パスワード統合',
  4: 'パスワード統合、新規パスワード登録',
};

export interface ProvenOldPassword {
  /** What the entered value matched: the password, or a still-valid temp password. */
  kind: 'password' | 'temp';
  /** Whether the value also meets the new site's password rules (8–12, …). */
  meetsNewRules: boolean;
  /** Equal entered values share a group (同); different ones do not (異). */
  group: number;
}

export interface HandoverDecision {
  case: HandoverCase;
  /** Groups whose password may become the new site's password (case 1: the one; case 3: the choice). */
  keepable: number[];
}

/** `locked`: old passwords in scope that 10 wrong entries made invalid (they cannot be proven). */
export function decideHandover(proven: readonly ProvenOldPassword[], locked: number): HandoverDecision {
  const groups = [...new Set(proven.map((p) => p.group))];
  const merge = groups.length > 1;
  const keepable = groups.filter((g) => proven.filter((p) => p.group === g).every((p) => p.kind === 'password' && p.meetsNewRules));
  const renew = locked > 0 || proven.some((p) => p.kind === 'temp') || keepable.length === 0;
  if (renew) return { case: merge ? 4 : 2, keepable: [] };
  return { case: merge ? 3 : 1, keepable };
}
