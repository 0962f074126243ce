import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { formatNotifyMail, formatTestMail, tokyoTime } from '../../src/mail/format.ts';
import { encodeIso2022jp, encodeIso2022jpHeader } from '../../src/mail/iso2022jp.ts';

const footers = parseConfig({}).mail.footers;
const at = new Date('2026-11-22T00:15:03.400Z'); // 09:15:03 in Tokyo

describe('mail text', () => {
  it('shows times in Japan time whatever the server zone', () => {
    expect(tokyoTime(at)).toBe('2026/11/22 09:15:03');
    expect(tokyoTime(new Date('2026-12-31T15:00:00Z'))).toBe('2027/01/01 00:00:00');
  });

  it('pattern A, west: the current wording', () => {
    const mail = formatNotifyMail(
      { calledNumber: '0611112222', inviteAt: at, callerNumber: '0612345678', absentReason: null, ringSeconds: 10, status: '応答なし' },
      'A',
      footers.A.west,
    );
    expect(mail.subject).toBe('着信通知（0611112222着）');
    expect(mail.body).toBe(
      [
        '着信日時:2026/11/22 09:15:03',
        '発信電話番号:0612345678',
        '非通知理由:',
        '呼出時間:10秒',
        '着信状態:応答なし',
        '',
        '------',
        'NTT西日本　「着信お知らせメール」',
        '※各種設定は、ひかり電話設定サイトから行ってください。',
        'https://www.hikari.ntt-west.net',
        '※本メールは送信専用のため返信できません。',
        '',
      ].join('\n'),
    );
  });

  it('pattern B, west: the legacy label and footer', () => {
    const mail = formatNotifyMail(
      { calledNumber: '0611112222', inviteAt: at, callerNumber: null, absentReason: '非通知', ringSeconds: 0, status: '転送' },
      'B',
      footers.B.west,
    );
    expect(mail.body).toBe(
      [
        '着信日時:2026/11/22 09:15:03',
        '発信者通知番号:',
        '非通知理由:非通知',
        '呼出時間:0秒',
        '着信状態:転送',
        '',
        '------',
        'NTT西日本　「着信お知らせメール」',
        '※各種設定は、サービス設定ホームページから実施してください。',
        'https://www.hikari.msd.isp.ntt-west.co.jp/',
        '※本メールは送信専用のため返信できません。',
        '',
      ].join('\n'),
    );
  });

  it('east footers come from config', () => {
    const mail = formatNotifyMail(
      { calledNumber: '0311112222', inviteAt: at, callerNumber: '0312345678', absentReason: null, ringSeconds: 3, status: '通話' },
      'A',
      { brand: 'テスト通信', siteName: '設定サイト', siteUrl: 'https://settings.example.jp', from: 'info@example.jp' },
    );
    expect(mail.body.split('\n').slice(6, 10)).toEqual([
      '------', 'テスト通信　「着信お知らせメール」', '※各種設定は、設定サイトから行ってください。', 'https://settings.example.jp',
    ]);
  });

  it('test mail names the number', () => {
    const mail = formatTestMail('0611112222', 'A', footers.A.east, at);
    expect(mail.subject).toBe('送信テスト（0611112222）');
    expect(mail.body).toContain('このメールは「着信お知らせメール」の送信テストです。\n電話番号:0611112222\n送信日時:2026/11/22 09:15:03\n');
    expect(mail.body).toContain('NTT東日本　「着信お知らせメール」\n※各種設定は、ひかり電話設定サイトから行ってください。\nhttps://www.hikari.ntt-east.net\n');
  });
});

describe('ISO-2022-JP', () => {
  it('switches between ASCII and JIS X 0208 and always ends in ASCII', () => {
    const bytes = encodeIso2022jp('呼出時間:10秒');
    expect(bytes.toString('latin1')).toBe('\x1b$B8F=P;~4V\x1b(B:10\x1b$BIC\x1b(B');
    expect(new TextDecoder('iso-2022-jp').decode(bytes)).toBe('呼出時間:10秒');
  });

  it('widens half-width katakana and replaces what JIS lacks with 〓', () => {
    expect(new TextDecoder('iso-2022-jp').decode(encodeIso2022jp('ｶﾀｶﾅ🙂'))).toBe('カタカナ〓');
  });

  it('encodes headers as short complete encoded-words', () => {
    const h = encodeIso2022jpHeader('着信通知（0611112222着）');
    for (const line of h.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    expect(h).toMatch(/^=\?ISO-2022-JP\?B\?/);
    expect(encodeIso2022jpHeader('plain')).toBe('plain');
  });
});
