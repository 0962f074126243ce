// ワンタイムパスワード各種一括設定 (001 p.13): "電話番号","ワンタイムパスワード利用設定",
// "ワンタイムパスワード受信用メールアドレス","確認用ID","確認用パスワード" — 0 利用なし / 1 利用あり,
// blank 利用設定 = not chosen yet (left as is). The download never holds 確認用ID/パスワード (they
// are stored hashed); blank ones on upload keep what is stored.
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { isNationalNumber } from '../../../domain/phone-number.ts';
import { checkIdRefusal, checkPasswordRefusal } from '../../../domain/otp.ts';
import type { OtpSetting } from '../../../store/otp.ts';
import { ADDRESS_MESSAGES, MSG } from '../../messages.ts';
import { CHECK_ID_MESSAGES, CHECK_PASSWORD_MESSAGES } from '../otp/messages.ts';
import { afterHeader, unescapeCell, type CsvProblem, type CsvRecord } from './csv.ts';

export const OTP_CSV_HEADER = ['電話番号', 'ワンタイムパスワード利用設定', 'ワンタイムパスワード受信用メールアドレス', '確認用ID', '確認用パスワード'];

export interface OtpRow {
  line: number;
  number: string;
  /** undefined: 利用設定 left blank (not chosen, nothing changes). */
  use: boolean | undefined;
  address: string;
  checkId: string;
  checkPassword: string;
}

export function otpCsvRow(number: string, s: OtpSetting | undefined): string[] {
  if (!s) return [number, '', '', '', ''];
  return [number, s.useOtp ? '1' : '0', s.address ?? s.pendingAddress ?? '', '', ''];
}

export function parseOtpCsv(records: CsvRecord[], stored: ReadonlyMap<string, OtpSetting>, allowed: ReadonlySet<string>): { rows: OtpRow[]; problems: CsvProblem[] } {
  const problems: CsvProblem[] = [];
  const rows: OtpRow[] = [];
  const seen = new Set<string>();
  const { body, problem } = afterHeader(records, OTP_CSV_HEADER);
  if (problem) return { rows, problems: [problem] };
  for (const rec of body) {
    const bad = (field: string, message: string) => problems.push({ line: rec.line, field, message });
    const c = rec.cells.map((v) => unescapeCell(v.trim()));
    if (c.length !== OTP_CSV_HEADER.length) {
      bad('列数', `列の数が${OTP_CSV_HEADER.length}ではありません（${c.length}列）。`);
      continue;
    }
    const before = problems.length;
    const [number, use, address, checkId, checkPassword] = c as [string, string, string, string, string];
    if (!isNationalNumber(number)) bad('電話番号', MSG.badNumber);
    else if (!allowed.has(number)) bad('電話番号', 'この電話番号の設定は、ログインした電話番号からは変更できません。');
    else if (seen.has(number)) bad('電話番号', 'この電話番号は、ファイルの中で既に指定されています。');
    seen.add(number);
    if (use !== '' && use !== '0' && use !== '1') bad('ワンタイムパスワード利用設定', '0（利用なし）または1（利用あり）を入力してください。');
    if (use === '1') {
      const s = stored.get(number);
      const a = mailAddressRefusal(address);
      if (a) bad('ワンタイムパスワード受信用メールアドレス', ADDRESS_MESSAGES[a]);
      if (checkId || !s?.checkIdHash) {
        const r = checkIdRefusal(checkId);
        if (r) bad('確認用ID', CHECK_ID_MESSAGES[r]);
      }
      if (checkPassword || !s?.checkPasswordHash) {
        const r = checkPasswordRefusal(checkPassword);
        if (r) bad('確認用パスワード', CHECK_PASSWORD_MESSAGES[r]);
      }
    }
    if (problems.length === before) rows.push({ line: rec.line, number, use: use === '' ? undefined : use === '1', address, checkId, checkPassword });
  }
  return { rows, problems };
}
