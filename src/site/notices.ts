// Mails the sites send a number's owner about its login, to the number's send-enabled 送信先
// through the mail outbox: the warning while wrong passwords keep coming, and the notice that 10 of
// them made the password invalid. Wording per settings pattern and region (mail footers).
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Pattern, Region } from '../domain/subscriber.ts';
import { formatLoginWarningMail, formatPasswordLockedMail, type MailText } from '../mail/format.ts';
import { enqueueMails } from '../mail/outbox.ts';
import { sendingDestinations } from '../store/site-accounts.ts';

export interface NoticeTarget {
  number: string;
  pattern: Pattern;
  region: Region;
}

async function mailOwner(db: pg.Pool | pg.PoolClient, config: Config, t: NoticeTarget, text: (footer: Config['mail']['footers']['A']['east']) => MailText): Promise<number> {
  const to = await sendingDestinations(db, t.number);
  const footer = config.mail.footers[t.pattern][t.region];
  const mail = text(footer);
  await enqueueMails(
    db,
    to.map((address) => ({ kind: 'notice' as const, incomingCallId: null, to: address, from: footer.from, subject: mail.subject, body: mail.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec })),
  );
  return to.length;
}

/** パスワード無効のお知らせ (site.lockNoticeMail); returns how many were queued. */
export function mailPasswordLocked(db: pg.Pool | pg.PoolClient, config: Config, t: NoticeTarget, at: Date): Promise<number> {
  if (!config.site.lockNoticeMail) return Promise.resolve(0);
  return mailOwner(db, config, t, (f) => formatPasswordLockedMail(t.number, t.pattern, f, at));
}

/** ログイン失敗のお知らせ at site.loginThrottle.warnAtFailures; returns how many were queued. */
export function mailLoginWarning(db: pg.Pool | pg.PoolClient, config: Config, t: NoticeTarget, failures: number, at: Date): Promise<number> {
  return mailOwner(db, config, t, (f) => formatLoginWarningMail(t.number, failures, t.pattern, f, at));
}
