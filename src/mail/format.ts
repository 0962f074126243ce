// The 着信お知らせメール text exactly as the guides print it. Pattern A (ひかり電話設定サイト) and
// pattern B (legacy サービス設定ホームページ) differ in one label and the footer's wording;
// brand, site and sender come from config per region and pattern.
import type { Config } from '../config.ts';
import type { AbsentReason, CallStatus } from '../domain/incoming-call.ts';
import { faxResultText, type FaxResult } from '../domain/fax.ts';
import type { Pattern } from '../domain/subscriber.ts';

export type MailFooter = Config['mail']['footers']['A']['east'];

export interface NotifyMailFacts {
  calledNumber: string;
  inviteAt: Date;
  callerNumber: string | null;
  absentReason: AbsentReason | null;
  ringSeconds: number;
  status: CallStatus;
}

export interface MailText {
  subject: string;
  body: string;
}

const tokyo = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23',
});

/** 2026/11/22 09:15:03 in Japan time, whatever the server's zone. */
export function tokyoTime(at: Date): string {
  const p = Object.fromEntries(tokyo.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}/${p.month}/${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

function footer(pattern: Pattern, f: MailFooter, service = '着信お知らせメール'): string[] {
  const settings = pattern === 'A' ? `※各種設定は、${f.siteName}から行ってください。` : `※各種設定は、${f.siteName}から実施してください。`;
  return ['------', `${f.brand}　「${service}」`, settings, f.siteUrl, '※本メールは送信専用のため返信できません。'];
}

export interface FaxMailFacts {
  calledNumber: string;
  /** 受信日時: when the receiver answered. */
  receivedAt: Date;
  callerNumber: string | null;
  absentReason: AbsentReason | null;
  pages: number;
  result: FaxResult;
  t30Reason: string;
  /** 受信FAX内容確認 on the subscriber's site, built from configured URLs only. */
  viewUrl: string;
}

/**
 * FAXお知らせメール. The guides print no sample, so it follows the 着信 mail: the same labels where
 * they mean the same (pattern A 発信電話番号, B 発信者通知番号), the footer with the service's name.
 */
export function formatFaxMail(facts: FaxMailFacts, pattern: Pattern, f: MailFooter): MailText {
  const callerLabel = pattern === 'A' ? '発信電話番号' : '発信者通知番号';
  const lines = [
    `受信日時:${tokyoTime(facts.receivedAt)}`,
    `${callerLabel}:${facts.callerNumber ?? ''}`,
    `非通知理由:${facts.absentReason ?? ''}`,
    `ページ数:${facts.pages}`,
    `受信結果:${faxResultText(facts)}`,
    '',
    `受信したFAXは、${f.siteName}の「受信FAX内容確認」でご覧いただけます。`,
    facts.viewUrl,
    '',
    ...footer(pattern, f, 'FAXお知らせメール'),
  ];
  return { subject: `FAX受信通知（${facts.calledNumber}着）`, body: `${lines.join('\n')}\n` };
}

export function formatNotifyMail(facts: NotifyMailFacts, pattern: Pattern, f: MailFooter): MailText {
  const callerLabel = pattern === 'A' ? '発信電話番号' : '発信者通知番号';
  const lines = [
    `着信日時:${tokyoTime(facts.inviteAt)}`,
    `${callerLabel}:${facts.callerNumber ?? ''}`,
    `非通知理由:${facts.absentReason ?? ''}`,
    `呼出時間:${facts.ringSeconds}秒`,
    `着信状態:${facts.status}`,
    '',
    ...footer(pattern, f),
  ];
  return { subject: `着信通知（${facts.calledNumber}着）`, body: `${lines.join('\n')}\n` };
}

/** 送信テスト: lets the subscriber check an address before relying on it. */
export function formatTestMail(number: string, pattern: Pattern, f: MailFooter, at: Date): MailText {
  const lines = [
    'このメールは「着信お知らせメール」の送信テストです。',
    `電話番号:${number}`,
    `送信日時:${tokyoTime(at)}`,
    'このメールが届いていれば、送信先メールアドレスは正しく設定されています。',
    '',
    ...footer(pattern, f),
  ];
  return { subject: `送信テスト（${number}）`, body: `${lines.join('\n')}\n` };
}

/** Sent when 10 wrong passwords in a row make the settings-site password invalid (our own notice). */
export function formatPasswordLockedMail(number: string, pattern: Pattern, f: MailFooter, at: Date): MailText {
  const lines = [
    `${number}の${f.siteName}のパスワードが、連続して誤って入力されたため無効になりました。`,
    `無効になった日時:${tokyoTime(at)}`,
    'お心当たりのない場合も、仮パスワードを設定し直してからログインしてください。',
    '',
    ...footer(pattern, f),
  ];
  return { subject: `パスワード無効のお知らせ（${number}）`, body: `${lines.join('\n')}\n` };
}

/** Sent once when wrong passwords for a number keep coming, well before they make it invalid (our own notice). */
export function formatLoginWarningMail(number: string, failures: number, pattern: Pattern, f: MailFooter, at: Date): MailText {
  const lines = [
    `${number}の${f.siteName}へのログインで、パスワードが${failures}回続けて誤って入力されました。`,
    `確認した日時:${tokyoTime(at)}`,
    'お心当たりのない場合は、第三者がログインを試みているおそれがあります。パスワードが他人に知られていないかご確認のうえ、ログインしてパスワードを変更してください。',
    'このまま誤った入力が続くと、パスワードは無効になります。',
    '',
    ...footer(pattern, f),
  ];
  return { subject: `ログイン失敗のお知らせ（${number}）`, body: `${lines.join('\n')}\n` };
}
