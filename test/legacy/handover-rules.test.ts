// The guide's table of 設備変更工事 hand-over cases (000 p.124), row by row, as decideHandover reads it.
// Columns: 着信+FAX 同 / 異, 着信のみ, FAXのみ, several numbers under 回線単位 同 / 異.
// Rows: the old password at first login is 8 characters (meeting the new rules), shorter, locked, a temp password.
import { describe, expect, it } from 'vitest';
import { decideHandover, type ProvenOldPassword } from '../../src/domain/handover.ts';

const pw8 = (group = 0): ProvenOldPassword => ({ kind: 'password', meetsNewRules: true, group });
const short = (group = 0): ProvenOldPassword => ({ kind: 'password', meetsNewRules: false, group });
const temp = (group = 0): ProvenOldPassword => ({ kind: 'temp', meetsNewRules: false, group });

type Column = 'same' | 'different' | 'single';
/** What is proven for a row and column; `locked` counts passwords that could not be proven. */
function facts(row: '8' | 'short' | 'locked' | 'temp', column: Column): [ProvenOldPassword[], number] {
  const first = row === '8' ? pw8 : row === 'short' ? short : row === 'temp' ? temp : pw8;
  if (column === 'single') return [[first(0)], 0];
  if (row === 'locked') return column === 'same' ? [[pw8(0)], 1] : [[pw8(0), pw8(1)], 1];
  return column === 'same' ? [[first(0), first(0)], 0] : [[first(0), row === '8' ? pw8(1) : short(1)], 0];
}

const TABLE: [row: '8' | 'short' | 'locked' | 'temp', column: Column, expected: number][] = [
  ['8', 'same', 1], ['8', 'different', 3], ['8', 'single', 1],
  ['short', 'same', 2], ['short', 'different', 4], ['short', 'single', 2],
  // A single locked password cannot be proven at all: the subscriber sets a temp password with the
  // pattern A IVR and logs in, which is 新規パスワード登録 (test/legacy/handover.test.ts).
  ['locked', 'same', 2], ['locked', 'different', 4],
  ['temp', 'same', 2], ['temp', 'different', 4], ['temp', 'single', 2],
];

describe('hand-over cases (000 p.124)', () => {
  it.each(TABLE)('old password %s, %s → case %s', (row, column, expected) => {
    const [proven, locked] = facts(row, column);
    expect(decideHandover(proven, locked).case).toBe(expected);
  });

  it('case 3 offers only the passwords that meet the new rules', () => {
    expect(decideHandover([pw8(0), short(1), pw8(2)], 0)).toEqual({ case: 3, keepable: [0, 2] });
  });
  it('case 1 keeps the one group', () => {
    expect(decideHandover([pw8(0), pw8(0), pw8(0)], 0)).toEqual({ case: 1, keepable: [0] });
  });
});
