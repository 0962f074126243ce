// 仮登録: a pending ワンタイムパスワード受信用メールアドレス and the mail with its 本登録 URL, in the
// caller's transaction (the registration page and the CSV 一括設定 both start one).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Config } from '../../../config.ts';
import type { Pattern, Region } from '../../../domain/subscriber.ts';
import { enqueueMails } from '../../../mail/outbox.ts';
import { createToken, registerPending, sha256 } from '../../../store/otp.ts';
import { registrationMail } from './mail.ts';

export interface Registration {
  number: string;
  address: string;
  /** Hashes of new 確認用ID / 確認用パスワード; absent keeps the stored ones. */
  check?: { idHash: string; passwordHash: string };
  pattern: Pattern;
  region: Region;
  /** The site's public URL (SiteContext.publicUrl): never anything a request says. */
  publicUrl: string;
}

export async function startRegistration(db: pg.PoolClient, config: Config, now: Date, r: Registration): Promise<void> {
  const ttlHours = config.otp.registrationTtlHours;
  const token = randomBytes(32).toString('base64url');
  const origin = r.publicUrl.replace(/\/$/, '');
  const footer = config.mail.footers[r.pattern][r.region];
  const text = registrationMail(r.number, `${origin}/otp/confirm?t=${token}`, ttlHours, footer, now);
  await registerPending(db, r.number, r.address, r.check);
  await createToken(db, { number: r.number, kind: 'register', secretHash: sha256(token), address: r.address, expiresAt: new Date(now.getTime() + ttlHours * 3_600_000) });
  await enqueueMails(db, [{ kind: 'notice', incomingCallId: null, to: r.address, from: footer.from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec }]);
}
