// 着信お知らせメール 一括設定: one CSV record per number — 開始/停止, the 5 destinations with their
// 送信 flags, the two conditions, the 30 designated numbers with their 指定 flags — checked by the
// same rules as the per-number pages, every problem reported by line and field.
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../../../domain/limits.ts';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { isNationalNumber } from '../../../domain/phone-number.ts';
import type { NotifySettings } from '../../../store/notify-settings.ts';
import { ADDRESS_MESSAGES, MSG } from '../../messages.ts';
import { afterHeader, unescapeCell, type CsvProblem, type CsvRecord } from './csv.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
export const MAIL_CSV_HEADER = [
  '電話番号',
  'サービス開始／停止',
  ...range(MAX_DESTINATIONS).flatMap((i) => [`送信先メールアドレス${i}`, `送信${i}`]),
  'お知らせ対象電話番号からの着信のみお知らせする',
  '応答できなかった着信のみお知らせする',
  ...range(MAX_DESIGNATED).flatMap((i) => [`電話番号${i}`, `指定${i}`]),
];

export type MailRow = Omit<NotifySettings, 'version'>;

const flag = (b: boolean) => (b ? '1' : '0');

export function mailCsvRow(s: NotifySettings): string[] {
  const dest = range(MAX_DESTINATIONS).flatMap((i) => {
    const d = s.destinations.find((x) => x.position === i);
    return [d?.address ?? '', d ? flag(d.send) : '0'];
  });
  const des = range(MAX_DESIGNATED).flatMap((i) => {
    const d = s.designated.find((x) => x.position === i);
    return [d?.callerNumber ?? '', d ? flag(d.designated) : '0'];
  });
  return [s.number, flag(s.started), ...dest, flag(s.designatedOnly), flag(s.unansweredOnly), ...des];
}

/** Parses and checks the records after the header; `allowed` are the numbers this login may set. */
export function parseMailCsv(records: CsvRecord[], allowed: ReadonlySet<string>): { rows: MailRow[]; problems: CsvProblem[] } {
  const problems: CsvProblem[] = [];
  const rows: MailRow[] = [];
  const seen = new Set<string>();
  const { body, problem } = afterHeader(records, MAIL_CSV_HEADER);
  if (problem) return { rows, problems: [problem] };
  for (const rec of body) {
    const c = rec.cells.map((v) => unescapeCell(v.trim()));
    const bad = (field: string, message: string) => problems.push({ line: rec.line, field, message });
    if (c.length !== MAIL_CSV_HEADER.length) {
      bad('列数', `列の数が${MAIL_CSV_HEADER.length}ではありません（${c.length}列）。`);
      continue;
    }
    const before = problems.length;
    const bit = (i: number) => {
      const v = c[i]!;
      if (v !== '0' && v !== '1') bad(MAIL_CSV_HEADER[i]!, '0または1を入力してください。');
      return v === '1';
    };
    const number = c[0]!;
    if (!isNationalNumber(number)) bad('電話番号', MSG.badNumber);
    else if (!allowed.has(number)) bad('電話番号', 'この電話番号の設定は、ログインした電話番号からは変更できません。');
    else if (seen.has(number)) bad('電話番号', 'この電話番号は、ファイルの中で既に指定されています。');
    seen.add(number);
    const started = bit(1);
    const destinations: MailRow['destinations'] = [];
    const addresses = new Set<string>();
    for (const i of range(MAX_DESTINATIONS)) {
      const col = 2 + (i - 1) * 2;
      const address = c[col]!;
      const send = bit(col + 1);
      if (!address) {
        if (send) bad(MAIL_CSV_HEADER[col]!, MSG.sendWithoutAddress);
        continue;
      }
      const r = mailAddressRefusal(address);
      if (r) bad(MAIL_CSV_HEADER[col]!, ADDRESS_MESSAGES[r]);
      else if (addresses.has(address.toLowerCase())) bad(MAIL_CSV_HEADER[col]!, MSG.duplicateAddress);
      addresses.add(address.toLowerCase());
      destinations.push({ position: i, address, send });
    }
    if (started && destinations.length === 0) bad('サービス開始／停止', MSG.startWithoutAddress);
    const condCol = 2 + MAX_DESTINATIONS * 2;
    const designatedOnly = bit(condCol);
    const unansweredOnly = bit(condCol + 1);
    const designated: MailRow['designated'] = [];
    const callers = new Set<string>();
    for (const i of range(MAX_DESIGNATED)) {
      const col = condCol + 2 + (i - 1) * 2;
      const caller = c[col]!;
      const on = bit(col + 1);
      if (!caller) {
        if (on) bad(MAIL_CSV_HEADER[col]!, MSG.designatedWithoutNumber);
        continue;
      }
      if (!isNationalNumber(caller)) bad(MAIL_CSV_HEADER[col]!, MSG.badNumber);
      else if (callers.has(caller)) bad(MAIL_CSV_HEADER[col]!, MSG.duplicateNumber);
      callers.add(caller);
      designated.push({ position: i, callerNumber: caller, designated: on });
    }
    if (problems.length === before) rows.push({ number, started, destinations, designatedOnly, unansweredOnly, designated });
  }
  return { rows, problems };
}

/** Whether the row says exactly what is stored (then it is not written, and nothing changes). */
export function sameAsStored(row: MailRow, s: NotifySettings): boolean {
  return mailCsvRow({ ...row, version: 0 }).join('\0') === mailCsvRow(s).join('\0');
}
