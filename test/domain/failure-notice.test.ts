import { describe, expect, it } from 'vitest';
import { MAIL_TEXT_MAX_LENGTH, mailTextMessage, mailTextRefusal } from '../../src/domain/failure-notice.ts';

describe('契約者名 and 拠点情報', () => {
  it.each([
    ['株式会社テスト'],
    ['大阪本社 3F（営業部）'],
    ['ABC-123 Co., Ltd. & Sons'],
    ['々〆ヵヶー・〒'],
    ['全角ＡＢＣ１２３'],
    [''],
    ['あ'.repeat(MAIL_TEXT_MAX_LENGTH)],
  ])('accepts %s', (value) => {
    expect(mailTextRefusal(value)).toBeUndefined();
  });

  it.each([
    ['株式会社①', '①'],
    ['㈱テスト', '㈱'],
    ['髙橋商店', '髙'],
    ['ﾃｽﾄ', 'ﾃ'],
    ['本社🏢', '🏢'],
    ['本社\n2F', '\n'],
    ['tab\there', '\t'],
  ])('refuses %j for the character %j', (value, character) => {
    expect(mailTextRefusal(value)).toEqual({ rule: 'character', character });
  });

  it('refuses more than 40 characters, counting a kanji as one', () => {
    expect(mailTextRefusal('あ'.repeat(MAIL_TEXT_MAX_LENGTH + 1))).toEqual({ rule: 'too_long' });
  });

  it('says what is wrong next to the field, naming it', () => {
    expect(mailTextMessage('contractorName', { rule: 'too_long' })).toBe('契約者名は40文字以内で入力してください。');
    expect(mailTextMessage('siteInfo', { rule: 'character', character: '①' })).toBe('拠点情報に使用できない文字（「①」）が含まれています。半角カナ、機種依存文字は使用できません。');
    expect(mailTextMessage('siteInfo', { rule: 'character', character: '\n' })).toContain('（改行・制御文字）');
  });
});
