// The two ワンタイムパスワード mails: the 本登録 URL and the login code. Neither text is logged.
import type { MailFooter } from '../../../mail/format.ts';
import { tokyoTime } from '../../../mail/format.ts';

export interface OtpMailText {
  subject: string;
  body: string;
}

const footer = (f: MailFooter) => `\r\n--\r\n${f.brand} ${f.siteName}\r\n${f.siteUrl}\r\n※このメールは送信専用です。ご返信いただいてもお答えできません。\r\n`;

export function registrationMail(number: string, url: string, ttlHours: number, f: MailFooter, at: Date): OtpMailText {
  return {
    subject: `メールアドレスの本登録お手続きURL（${number}）`,
    body:
      `${f.siteName}のワンタイムパスワード受信用メールアドレスの仮登録を受け付けました（${tokyoTime(at)}）。\r\n` +
      `電話番号：${number}\r\n\r\n` +
      `メールアドレスの本登録お手続きURL\r\n${url}\r\n\r\n` +
      `※このURLの有効期限は${ttlHours}時間です。${ttlHours}時間を経過した場合は、再度${f.siteName}にログインしてお手続きをお願いします。\r\n` +
      `※お心当たりのない場合は、このメールを破棄してください。\r\n` +
      footer(f),
  };
}

export function codeMail(number: string, code: string, ttlSec: number, f: MailFooter, at: Date): OtpMailText {
  return {
    subject: `ワンタイムパスワードのお知らせ（${number}）`,
    body:
      `${f.siteName}へのログイン（${tokyoTime(at)}）のワンタイムパスワードをお知らせします。\r\n` +
      `電話番号：${number}\r\n\r\n` +
      `ワンタイムパスワード：${code}\r\n\r\n` +
      `※ワンタイムパスワードの有効時間は${ttlSec}秒です。1回だけ使用できます。\r\n` +
      `※お心当たりのない場合は、パスワードが他人に知られているおそれがあります。パスワードを変更してください。\r\n` +
      footer(f),
  };
}
