// Logging in to the settings site, and setting a password. Every attempt costs the same: two scrypt
// checks (temp password, password) run whether or not the number exists, so an unknown number,
// a locked one and a wrong password look alike in answer, status and timing.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { mayLogIn } from '../domain/auth-unit.ts';
import type { Clock } from '../domain/clock.ts';
import { isNationalNumber } from '../domain/phone-number.ts';
import { formatPasswordLockedMail } from '../mail/format.ts';
import { enqueueMails } from '../mail/outbox.ts';
import { writeAudit } from '../store/audit.ts';
import { hashPassword, verifyPassword } from '../store/password-hash.ts';
import {
  countPasswordFailure,
  countTempFailure,
  loadSiteAccount,
  resetPasswordFailures,
  sendingDestinations,
  setContractAuthUnit,
  type SiteAccount,
} from '../store/site-accounts.ts';
import { endSessionsOf } from './session-store.ts';

export type LoginResult = { ok: true; account: SiteAccount; mustChange?: 'temp' | 'expired' } | { ok: false };

export interface LoginDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
}

let dummyHash: Promise<string> | undefined;
/** A hash to check against when there is nothing real to check, so the cost is the same. */
const dummy = () => (dummyHash ??= hashPassword('chakushin-no-such-password'));

const liveTemp = (a: SiteAccount | undefined, now: Date, max: number) =>
  a?.temp && !a.temp.usedAt && a.temp.failedAttempts < max && a.temp.expiresAt > now ? a.temp : undefined;
const livePassword = (a: SiteAccount | undefined) => (a?.password && !a.password.lockedAt ? a.password : undefined);

export async function logIn(deps: LoginDeps, numberInput: string, password: string, source: string): Promise<LoginResult> {
  const { pool, config, clock } = deps;
  const site = config.site;
  const now = clock.now();
  const number = isNationalNumber(numberInput) ? numberInput : undefined;
  const account = number ? await loadSiteAccount(pool, number) : undefined;
  const usable = account?.pattern === 'A' ? account : undefined;
  const temp = liveTemp(usable, now, site.tempPasswordMaxFailures);
  const pw = livePassword(usable);
  const [tempOk, pwOk] = await Promise.all([
    verifyPassword(password, temp?.hash ?? (await dummy())),
    verifyPassword(password, pw?.hash ?? (await dummy())),
  ]);
  const audit = (action: string, detail: Record<string, unknown> = {}) =>
    writeAudit(pool, { actor: number ?? 'anonymous', action, subject: number ?? null, detail, source, at: now });

  if (usable && temp && tempOk) {
    const unit = temp.authUnit ?? usable.authUnit;
    if (mayLogIn(unit, usable)) {
      // Logging in with a temp password puts the contract on the unit chosen in the IVR.
      if (await setContractAuthUnit(pool, usable.contractId, unit)) await audit('contract.auth_unit', { authUnit: unit });
      await audit('login', { with: 'temp_password', authUnit: unit });
      return { ok: true, account: { ...usable, authUnit: unit }, mustChange: 'temp' };
    }
  }
  if (usable && pw && pwOk && mayLogIn(usable.authUnit, usable) && (await resetPasswordFailures(pool, usable.number))) {
    const expired = now.getTime() - pw.setAt.getTime() > site.passwordTtlDays * 86_400_000;
    await audit('login', { with: 'password', authUnit: usable.authUnit, expired });
    return { ok: true, account: usable, mustChange: expired ? 'expired' : undefined };
  }

  const detail: Record<string, unknown> = {};
  if (usable && mayLogIn(temp?.authUnit ?? usable.authUnit, usable)) {
    if (temp) {
      const t = await countTempFailure(pool, usable.number, site.tempPasswordMaxFailures);
      if (t) Object.assign(detail, { tempFailures: t.failed });
      if (t?.exhausted) await audit('lock.temp_password', { failures: t.failed });
    }
    if (pw) {
      const p = await countPasswordFailure(pool, usable.number, site.passwordMaxFailures, now);
      if (p) Object.assign(detail, { passwordFailures: p.failed });
      if (p?.lockedNow) await passwordLocked(deps, usable, p.failed, source);
    }
  }
  await audit('login.failed', detail);
  return { ok: false };
}

/** 10 wrong in a row: the password is invalid. Sessions end; the subscriber is told by mail. */
async function passwordLocked(deps: LoginDeps, account: SiteAccount, failures: number, source: string): Promise<void> {
  const { pool, config, clock } = deps;
  const now = clock.now();
  await endSessionsOf(pool, account.number);
  const to = config.site.lockNoticeMail ? await sendingDestinations(pool, account.number) : [];
  const footer = config.mail.footers[account.pattern][account.region];
  const text = formatPasswordLockedMail(account.number, account.pattern, footer, now);
  await enqueueMails(
    pool,
    to.map((address) => ({ kind: 'notice' as const, incomingCallId: null, to: address, from: footer.from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec })),
  );
  await writeAudit(pool, { actor: account.number, action: 'lock.password', subject: account.number, detail: { failures, noticeTo: to.length }, source, at: now });
}

/** Checks an entered current password of `number` (temp password when `temp`), counting a wrong one like a failed login. */
export async function checkCurrentPassword(deps: LoginDeps, account: SiteAccount, entered: string, temp: boolean, source: string): Promise<boolean> {
  const { pool, config, clock } = deps;
  const now = clock.now();
  const t = temp ? liveTemp(account, now, config.site.tempPasswordMaxFailures) : undefined;
  const p = temp ? undefined : livePassword(account);
  const ok = await verifyPassword(entered, (t ?? p)?.hash ?? (await dummy()));
  if (ok && (t || p)) return true;
  if (t) {
    const r = await countTempFailure(pool, account.number, config.site.tempPasswordMaxFailures);
    if (r?.exhausted) await writeAudit(pool, { actor: account.number, action: 'lock.temp_password', subject: account.number, detail: { failures: r.failed }, source, at: now });
  } else if (p) {
    const r = await countPasswordFailure(pool, account.number, config.site.passwordMaxFailures, now);
    if (r?.lockedNow) await passwordLocked(deps, account, r.failed, source);
  }
  await writeAudit(pool, { actor: account.number, action: 'password.current_wrong', subject: account.number, detail: {}, source, at: now });
  return false;
}
