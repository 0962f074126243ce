// Numbers are kept in national format without hyphens: 0 followed by 9–10 digits
// (固定 0X-XXXX-XXXX is 10 digits, 050/070/080/090 are 11).
export const NATIONAL_NUMBER = /^0\d{9,10}$/;

export function isNationalNumber(value: unknown): value is string {
  return typeof value === 'string' && NATIONAL_NUMBER.test(value);
}
