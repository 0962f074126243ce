// The settings-site password (パスワード) rules, from 000 p.129 and 001 p.6/p.11:
// 8–12 half-width letters and digits, not digits only, not the current password; and (001 p.11)
// no run of 4+ identical characters (0000, aaaa), no run of 4+ ascending or descending ones
// (1234, abcd, dcba), no password containing one of the contract's numbers.
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 12;
const RUN = 4;

export type PasswordRefusal =
  | 'length'
  | 'characters'
  | 'digits_only'
  | 'same_as_current'
  | 'repeated_run'
  | 'sequence_run'
  | 'contains_number';

export interface PasswordContext {
  /** Whether the candidate equals the current (temp) password: the caller compares hashes. */
  sameAsCurrent: boolean;
  /** Every number of the contract (契約者回線番号 and 追加番号). */
  contractNumbers: readonly string[];
}

/** Why a new password is refused, or undefined when it may be set. */
export function passwordRefusal(candidate: string, ctx: PasswordContext): PasswordRefusal | undefined {
  const shape = passwordShapeRefusal(candidate, PASSWORD_MIN, PASSWORD_MAX, ctx.sameAsCurrent);
  if (shape) return shape;
  if (hasRepeatedRun(candidate)) return 'repeated_run';
  if (hasSequenceRun(candidate)) return 'sequence_run';
  if (ctx.contractNumbers.some((n) => candidate.includes(n))) return 'contains_number';
  return undefined;
}

/**
 * The part every site's password rule shares (the legacy site's is only this, with 4–8):
 * length, half-width letters and digits, not digits only, not the current password.
 */
export function passwordShapeRefusal(candidate: string, min: number, max: number, sameAsCurrent: boolean): 'length' | 'characters' | 'digits_only' | 'same_as_current' | undefined {
  if (candidate.length < min || candidate.length > max) return 'length';
  if (!/^[0-9A-Za-z]+$/.test(candidate)) return 'characters';
  if (/^[0-9]+$/.test(candidate)) return 'digits_only';
  if (sameAsCurrent) return 'same_as_current';
  return undefined;
}

function hasRepeatedRun(s: string): boolean {
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    run = s[i] === s[i - 1] ? run + 1 : 1;
    if (run >= RUN) return true;
  }
  return false;
}

/** 1234, abcd, ABCD, dcba, 9876: consecutive characters of one class, case-insensitive. */
function hasSequenceRun(s: string): boolean {
  const lower = s.toLowerCase();
  for (const step of [1, -1]) {
    let run = 1;
    for (let i = 1; i < lower.length; i++) {
      const a = lower[i - 1]!;
      const b = lower[i]!;
      run = sameClass(a, b) && b.charCodeAt(0) - a.charCodeAt(0) === step ? run + 1 : 1;
      if (run >= RUN) return true;
    }
  }
  return false;
}

const sameClass = (a: string, b: string) => /\d/.test(a) === /\d/.test(b);
