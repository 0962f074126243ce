// ワンタイムパスワード rules (001 p.7, p.11–12): the 確認用ID and 確認用パスワード a subscriber
// registers to change the receiving address later, and the login code's shape.
export const CHECK_MIN = 8;
export const CHECK_MAX = 12;
export const OTP_CODE_DIGITS = 6;

export type CheckIdRefusal = 'length' | 'characters' | 'upper_only' | 'lower_only' | 'digits_only';
export type CheckPasswordRefusal = 'length' | 'characters' | 'needs_both';

const shape = (s: string): 'length' | 'characters' | undefined =>
  s.length < CHECK_MIN || s.length > CHECK_MAX ? 'length' : /^[0-9A-Za-z]+$/.test(s) ? undefined : 'characters';

/** 確認用ID: 8–12 half-width letters/digits; not upper-case letters only, lower-case only, or digits only. */
export function checkIdRefusal(id: string): CheckIdRefusal | undefined {
  const s = shape(id);
  if (s) return s;
  if (/^[A-Z]+$/.test(id)) return 'upper_only';
  if (/^[a-z]+$/.test(id)) return 'lower_only';
  if (/^[0-9]+$/.test(id)) return 'digits_only';
  return undefined;
}

/** 確認用パスワード: 8–12 half-width letters/digits, with both letters and digits. */
export function checkPasswordRefusal(pw: string): CheckPasswordRefusal | undefined {
  const s = shape(pw);
  if (s) return s;
  if (!/[A-Za-z]/.test(pw) || !/[0-9]/.test(pw)) return 'needs_both';
  return undefined;
}

export const isOtpCodeShape = (code: string) => new RegExp(`^[0-9]{${OTP_CODE_DIGITS}}$`).test(code);
