import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { encodeIso2022jp } from '../../src/mail/iso2022jp.ts';
import { formatLineEventMail, formatLineEventTestMail } from '../../src/mail/line-event-format.ts';

const footers = parseConfig({}).mail.footers;
const at = new Date('2026-12-05T01:15:03.400Z'); // 10:15:03 in Tokyo
const facts = { at, contractorName: '株式会社テスト', siteInfo: '大阪本社', numbers: ['0611112222', '0611113333'] };

describe('故障・回復通知 mail text (README: 故障・回復通知機能)', () => {
  it('故障 with 一括転送 started automatically', () => {
    const mail = formatLineEventMail({ ...facts, kind: 'down', bulkForward: 'started' }, 'A', footers.A.west);
    expect(mail.subject).toBe('故障通知（大阪本社）');
    expect(mail.body).toBe(
      [
        '次の電話番号の回線で故障を検知しました。お客さまの電話機・機器またはネットワークから応答がありません。',
        '',
        '状態:故障',
        '検知日時:2026/12/05 10:15:03',
        '契約者名:株式会社テスト',
        '拠点情報:大阪本社',
        '対象電話番号:0611112222、0611113333',
        '一括転送:自動で開始しました',
        '',
        '------',
        'NTT西日本　「故障・回復通知機能」',
        '※各種設定は、ひかり電話設定サイトから行ってください。',
        'https://www.hikari.ntt-west.net',
        '※本メールは送信専用のため返信できません。',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['down', 'kept', '一括転送:開始中'],
    ['down', 'none', '一括転送:停止中'],
    ['up', 'stopped', '一括転送:自動で停止しました'],
    ['up', 'kept', '一括転送:開始中（自動では停止していません）'],
    ['up', 'none', '一括転送:停止中'],
  ] as const)('%s, 一括転送 %s: %s', (kind, bulkForward, line) => {
    const mail = formatLineEventMail({ ...facts, kind, bulkForward }, 'A', footers.A.east);
    expect(mail.body.split('\n')).toContain(line);
    expect(mail.body).toContain(kind === 'down' ? '状態:故障' : '状態:回復');
  });

  it('without 拠点情報 the subject names the first number; the text goes into ISO-2022-JP without a 〓', () => {
    const mail = formatLineEventMail({ ...facts, siteInfo: '', kind: 'up', bulkForward: 'none' }, 'A', footers.A.east);
    expect(mail.subject).toBe('回復通知（0611112222）');
    expect(new TextDecoder('iso-2022-jp').decode(encodeIso2022jp(mail.body))).toBe(mail.body);
  });
});

describe('故障・回復通知 送信テスト', () => {
  it('shows 契約者名 and 拠点情報 as the mails will', () => {
    const mail = formatLineEventTestMail({ contractorName: '株式会社テスト', siteInfo: '大阪本社', at }, 'A', footers.A.west);
    expect(mail.subject).toBe('送信テスト（故障・回復通知：大阪本社）');
    expect(mail.body.split('\n').slice(0, 5)).toEqual([
      'このメールは「故障・回復通知機能」の送信テストです。',
      '契約者名:株式会社テスト',
      '拠点情報:大阪本社',
      '送信日時:2026/12/05 10:15:03',
      'このメールが届いていれば、送信先メールアドレスは正しく設定されています。',
    ]);
    expect(mail.body).toContain('NTT西日本　「故障・回復通知機能」');
  });
});
