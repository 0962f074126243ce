// The CSV of 一括設定 (src/site/settings/bulk/csv.ts): quoting, line numbers, formula escaping.
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, decodeCsvFile, escapeCell, parseCsv, unescapeCell, writeCsv } from '../../src/site/settings/bulk/csv.ts';

describe('CSV', () => {
  it('reads quoted separators, doubled quotes and line breaks inside quotes, with each record\'s first line', () => {
    expect(parseCsv('"a,b","c""d"\r\n\r\n"e\r\nf",g\nh')).toEqual([
      { line: 1, cells: ['a,b', 'c"d'] },
      { line: 3, cells: ['e\r\nf', 'g'] },
      { line: 5, cells: ['h'] },
    ]);
    expect(() => parseCsv('"a,\r\nb')).toThrow(CsvSyntaxError);
  });
  it('escapes formula-like cells on the way out and undoes it on the way in', () => {
    for (const v of ['=1+1', '+81', '-x@example.jp', '@SUM(A1)']) expect(unescapeCell(escapeCell(v))).toBe(v);
    expect(escapeCell('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")');
    expect(escapeCell('0311112222')).toBe('0311112222');
    const out = writeCsv([['a"b', '=c']]);
    expect(decodeCsvFile(out)).toBe('"a""b","\'=c"\r\n');
  });
});
