// Checking an entered legacy password (or the temp password the pattern B IVR set) against one
// credential, and counting a wrong one. Every check costs two scrypt verifications whether or
// not the credential exists, so unknown numbers, locked passwords and wrong ones look alike.
import type pg from 'pg';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import { formatPasswordLockedMail } from '../../mail/format.ts';
import { enqueueMails } from '../../mail/outbox.ts';
import { writeAudit } from '../../store/audit.ts';
import {
  countLegacyPasswordFailure,
  countLegacyTempFailure,
  type LegacyAccount,
  type LegacyCredential,
} from '../../store/legacy-accounts.ts';
import { hashPassword, verifyPassword } from '../../store/password-hash.ts';
import { sendingDestinations } from '../../store/site-accounts.ts';
import { endSessionsOf } from '../session-store.ts';

export interface CredentialDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
}

let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashPassword('chakushin-no-such-legacy-password'));

/** The temp password, if it may still be used: unexpired (24 h), unused, fewer than the allowed wrong entries. */
export const liveTemp = (c: LegacyCredential | undefined, now: Date, maxFailures: number) =>
  c?.temp && !c.temp.usedAt && c.temp.failedAttempts < maxFailures && c.temp.expiresAt > now ? c.temp : undefined;
/** The password, unless 10 wrong entries made it invalid. */
export const livePassword = (c: LegacyCredential | undefined) => (c?.password && !c.password.lockedAt ? c.password : undefined);

export type Proof = 'password' | 'temp';

/** Which of the credential's secrets `entered` is, if any. */
export async function proveCredential(deps: CredentialDeps, c: LegacyCredential | undefined, entered: string): Promise<Proof | undefined> {
  const temp = liveTemp(c, deps.clock.now(), deps.config.site.tempPasswordMaxFailures);
  const pw = livePassword(c);
  const [tempOk, pwOk] = await Promise.all([verifyPassword(entered, temp?.hash ?? (await dummy())), verifyPassword(entered, pw?.hash ?? (await dummy()))]);
  if (temp && tempOk) return 'temp';
  if (pw && pwOk) return 'password';
  return undefined;
}

/** A wrong entry for this credential: counts on its temp password and its password; 10 in a row lock the password. */
export async function countWrongEntry(deps: CredentialDeps, account: Pick<LegacyAccount, 'region' | 'pattern'>, c: LegacyCredential, source: string): Promise<{ lockedNow: boolean }> {
  const { pool, config, clock } = deps;
  const now = clock.now();
  const detail: Record<string, unknown> = { realm: c.realm };
  if (liveTemp(c, now, config.site.tempPasswordMaxFailures)) {
    const t = await countLegacyTempFailure(pool, c.number, c.realm, config.site.tempPasswordMaxFailures);
    if (t) detail.tempFailures = t.failed;
    if (t?.exhausted) await writeAudit(pool, { actor: c.number, action: 'lock.legacy_temp_password', subject: c.number, detail: { realm: c.realm, failures: t.failed }, source, at: now });
  }
  let lockedNow = false;
  if (livePassword(c)) {
    const p = await countLegacyPasswordFailure(pool, c.number, c.realm, config.site.passwordMaxFailures, now);
    if (p) detail.passwordFailures = p.failed;
    if (p?.lockedNow) {
      lockedNow = true;
      await legacyPasswordLocked(deps, account, c, p.failed, source);
    }
  }
  await writeAudit(pool, { actor: c.number, action: 'legacy.wrong_password', subject: c.number, detail, source, at: now });
  return { lockedNow };
}

/** 10 wrong in a row: the password is invalid. Sessions end; the subscriber is told by mail (pattern B wording). */
async function legacyPasswordLocked(deps: CredentialDeps, account: Pick<LegacyAccount, 'region' | 'pattern'>, c: LegacyCredential, failures: number, source: string) {
  const { pool, config, clock } = deps;
  const now = clock.now();
  await endSessionsOf(pool, c.number);
  const to = config.site.lockNoticeMail && c.realm === 'chakushin_mail' ? await sendingDestinations(pool, c.number) : [];
  const footer = config.mail.footers[account.pattern][account.region];
  const text = formatPasswordLockedMail(c.number, account.pattern, footer, now);
  await enqueueMails(
    pool,
    to.map((address) => ({ kind: 'notice' as const, incomingCallId: null, to: address, from: footer.from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec })),
  );
  await writeAudit(pool, { actor: c.number, action: 'lock.legacy_password', subject: c.number, detail: { realm: c.realm, failures, noticeTo: to.length }, source, at: now });
}
