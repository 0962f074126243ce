// CSV files for 一括設定, as Excel reads and writes them: RFC 4180 quoting, CRLF lines, UTF-8
// (with or without BOM) or Shift_JIS/CP932 on the way in, UTF-8 with BOM on the way out, and cells
// that a spreadsheet would run as a formula escaped with a leading apostrophe.
import iconv from 'iconv-lite';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** UTF-8 when the bytes are valid UTF-8 (BOM or not), otherwise CP932 as Excel writes it in Japan. */
export function decodeCsvFile(bytes: Buffer): string {
  if (bytes.subarray(0, 3).equals(BOM)) return bytes.subarray(3).toString('utf8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(bytes, 'cp932');
  }
}

export interface CsvRecord {
  /** Line of the file the record starts on (1-based). */
  line: number;
  cells: string[];
}

export class CsvSyntaxError extends Error {
  constructor(readonly line: number) {
    super(`unterminated quoted field from line ${line}`);
  }
}

/** Records of a CSV text; blank lines are skipped. Accepts CRLF or LF. */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new CsvSyntaxError(start);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        // Anything between the closing quote and the separator is kept, as Excel does.
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      }
      cells.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    if (!(cells.length === 1 && cells[0] === '')) out.push({ line: start, cells });
  }
  return out;
}

const FORMULA = /^[=+\-@\t\r]/;

/** A cell a spreadsheet would evaluate gets a leading apostrophe (shown, never run). */
export const escapeCell = (v: string) => (FORMULA.test(v) ? `'${v}` : v);
/** Undoes escapeCell on upload, so a downloaded file goes back unchanged. */
export const unescapeCell = (v: string) => (v.startsWith("'") && FORMULA.test(v.slice(1)) ? v.slice(1) : v);

/** Every cell quoted, CRLF after every record, UTF-8 with BOM (Excel opens it as UTF-8). */
export function writeCsv(rows: readonly (readonly string[])[]): Buffer {
  const text = rows.map((r) => r.map((c) => `"${escapeCell(c).replace(/"/g, '""')}"`).join(',') + '\r\n').join('');
  return Buffer.concat([BOM, Buffer.from(text, 'utf8')]);
}

export interface CsvProblem {
  line: number;
  field: string;
  message: string;
}

/** The records after a header that must be exactly `header` (as downloaded), or the problem. */
export function afterHeader(records: CsvRecord[], header: readonly string[]): { body: CsvRecord[]; problem?: CsvProblem } {
  const [head, ...body] = records;
  if (!head || head.cells.map((c) => unescapeCell(c.trim())).join('\0') !== header.join('\0')) {
    return { body: [], problem: { line: head?.line ?? 1, field: '見出し行', message: '見出し行が一括ダウンロードしたファイルと異なります。' } };
  }
  if (body.length === 0) return { body, problem: { line: head.line + 1, field: '電話番号', message: '設定する行がありません。' } };
  return { body };
}

/** An uploaded file's records, or the one problem that stops reading it. */
export function readCsvUpload(file: unknown): { records: CsvRecord[] } | { problem: CsvProblem } {
  if (!Buffer.isBuffer(file) || file.length === 0) return { problem: { line: 0, field: 'CSVファイル', message: 'CSVファイルを指定してください。' } };
  try {
    return { records: parseCsv(decodeCsvFile(file)) };
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    return { problem: { line: err.line, field: '"', message: '「"」で始まった項目が閉じられていません。' } };
  }
}
