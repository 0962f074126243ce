// 一括転送機能 転送先電話番号の一括設定 (002): one CSV record per number, `"電話番号","転送先電話番号"`,
// checked by the per-number page's rules (ボイスワープ's 転送先 rules), every problem by line and field.
// An empty 転送先 removes the number's.
import { DESTINATION_MESSAGES, destinationRefusal, normaliseDialled } from '../../../domain/voice-warp.ts';
import { isNationalNumber } from '../../../domain/phone-number.ts';
import { MSG } from '../../messages.ts';
import { afterHeader, unescapeCell, type CsvProblem, type CsvRecord } from './csv.ts';

export const BULK_FORWARD_CSV_HEADER = ['電話番号', '転送先電話番号'] as const;

export interface BulkForwardRow {
  number: string;
  /** null: no 転送先 (removed). */
  destination: string | null;
}

/** The file as downloaded: every number of the contract, main first, with its 転送先 or blank. */
export function bulkForwardCsvRows(numbers: readonly BulkForwardRow[]): string[][] {
  return [[...BULK_FORWARD_CSV_HEADER], ...numbers.map((n) => [n.number, n.destination ?? ''])];
}

/** The 転送先 as the site takes it (hyphens, spaces and full-width digits forgiven), or its refusal. */
export function postedDestination(typed: string, number: string): { destination: string | null } | { refusal: string } {
  if (typed === '') return { destination: null };
  const refusal = destinationRefusal(typed, number);
  return refusal ? { refusal: DESTINATION_MESSAGES[refusal] } : { destination: normaliseDialled(typed) };
}

/** Parses and checks the records after the header; `contract` are the contract's numbers. */
export function parseBulkForwardCsv(records: CsvRecord[], contract: ReadonlySet<string>): { rows: BulkForwardRow[]; problems: CsvProblem[] } {
  const problems: CsvProblem[] = [];
  const rows: BulkForwardRow[] = [];
  const seen = new Set<string>();
  const { body, problem } = afterHeader(records, BULK_FORWARD_CSV_HEADER);
  if (problem) return { rows, problems: [problem] };
  for (const rec of body) {
    const [number = '', typed = ''] = rec.cells.map((v) => unescapeCell(v.trim()));
    const bad = (field: string, message: string) => problems.push({ line: rec.line, field, message });
    if (rec.cells.length !== BULK_FORWARD_CSV_HEADER.length) {
      bad('列数', `列の数が${BULK_FORWARD_CSV_HEADER.length}ではありません（${rec.cells.length}列）。`);
      continue;
    }
    if (!isNationalNumber(number)) bad('電話番号', MSG.badNumber);
    else if (!contract.has(number)) bad('電話番号', 'この電話番号は、ご契約の電話番号ではありません。');
    else if (seen.has(number)) bad('電話番号', 'この電話番号は、ファイルの中で既に指定されています。');
    else {
      seen.add(number);
      const d = postedDestination(typed, number);
      if ('refusal' in d) bad('転送先電話番号', d.refusal);
      else rows.push({ number, destination: d.destination });
    }
  }
  return { rows, problems };
}
