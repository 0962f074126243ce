// Logging in to the 設定サイト (pattern A) with the number and the temp password or the password,
// and checking a current password on a later page. The shared part (throttle, one cost for every
// attempt, counting, the warning) is login-attempt.ts; here: which secrets a number has, what a
// right one means (a temp password puts the contract on its 認証単位; a password past its 60 days
// must be changed first) and what 10 wrong ones do (パスワード無効: sessions end, the owner is mailed).
import { mayLogIn } from '../../domain/auth-unit.ts';
import { passwordUsable, tempUsable } from '../../domain/credential.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { writeAudit } from '../../store/audit.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import {
  countPasswordFailure,
  countTempFailure,
  loadSiteAccount,
  resetPasswordFailures,
  setContractAuthUnit,
  type SiteAccount,
} from '../../store/site-accounts.ts';
import { attemptLogin, type LoginDeps, type LoginSecret } from '../login-attempt.ts';
import { mailLoginWarning, mailPasswordLocked } from '../notices.ts';

export type LoginResult =
  | { ok: true; account: SiteAccount; mustChange?: 'temp' | 'expired' }
  | { ok: false; why: 'wrong' }
  | { ok: false; why: 'throttled'; retryAfterSec?: number };

interface SiteSecret extends LoginSecret {
  kind: 'temp' | 'password';
}

/** The secrets of an account a login may still use, each counting its own wrong entries. */
function secretsOf(deps: LoginDeps, account: SiteAccount, source: string, only?: 'temp' | 'password'): SiteSecret[] {
  const { pool, config, clock } = deps;
  const site = config.site;
  const now = clock.now();
  const audit = (action: string, detail: Record<string, unknown>) => writeAudit(pool, { actor: account.number, action, subject: account.number, detail, source, at: now });
  const secrets: SiteSecret[] = [];
  if (only !== 'password' && account.temp && tempUsable(account.temp, now, site.tempPasswordMaxFailures)) {
    secrets.push({
      kind: 'temp',
      hash: account.temp.hash,
      async countWrong() {
        const t = await countTempFailure(pool, account.number, site.tempPasswordMaxFailures);
        if (t?.exhausted) await audit('lock.temp_password', { failures: t.failed });
      },
    });
  }
  if (only !== 'temp' && account.password && passwordUsable(account.password)) {
    secrets.push({
      kind: 'password',
      hash: account.password.hash,
      async countWrong() {
        const p = await countPasswordFailure(pool, account.number, site.passwordMaxFailures, now);
        if (p?.lockedNow) await passwordLocked(deps, account, p.failed, source);
      },
    });
  }
  return secrets;
}

/** When the account's credentials were last set: a failure streak from before then is over. */
const credentialSince = (a: SiteAccount | undefined) => {
  const times = [a?.temp?.createdAt, a?.password?.setAt].filter((t): t is Date => t instanceof Date);
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
};

export async function logIn(deps: LoginDeps, numberInput: string, password: string, source: string): Promise<LoginResult> {
  const { pool, config, clock } = deps;
  const now = clock.now();
  const number = isNationalNumber(numberInput) ? numberInput : undefined;
  const account = number ? await loadSiteAccount(pool, number) : undefined;
  // Only a pattern A number that may log in under its unit (or its live temp password's) has secrets here.
  const liveTemp = account?.temp && tempUsable(account.temp, now, config.site.tempPasswordMaxFailures) ? account.temp : undefined;
  const usable = account?.pattern === 'A' && mayLogIn(liveTemp?.authUnit ?? account.authUnit, account) ? account : undefined;
  const audit = (action: string, detail: Record<string, unknown> = {}) =>
    writeAudit(pool, { actor: number ?? 'anonymous', action, subject: number ?? null, detail, source, at: now });

  const outcome = await attemptLogin(deps, source, {
    subject: number ?? null,
    credentialSince: credentialSince(account),
    secrets: usable ? secretsOf(deps, usable, source) : [],
    entered: password,
    checks: 2,
    warn: usable ? (failures) => loginWarning(deps, usable, failures, source) : undefined,
  });
  if (!outcome.ok) {
    if (outcome.why === 'throttled') {
      await audit('login.throttled', { retryAfterSec: outcome.retryAfterSec ?? null });
      return outcome;
    }
    const after = usable && (await loadSiteAccount(pool, usable.number));
    await audit('login.failed', after ? { tempFailures: after.temp?.failedAttempts, passwordFailures: after.password?.failedAttempts } : {});
    return { ok: false, why: 'wrong' };
  }
  const a = usable!;
  if (outcome.secret.kind === 'temp') {
    const unit = a.temp!.authUnit ?? a.authUnit;
    // Logging in with a temp password puts the contract on the unit chosen in the IVR.
    if (await setContractAuthUnit(pool, a.contractId, unit)) await audit('contract.auth_unit', { authUnit: unit });
    await audit('login', { with: 'temp_password', authUnit: unit });
    return { ok: true, account: { ...a, authUnit: unit }, mustChange: 'temp' };
  }
  // The right password, unless 10 wrong ones locked it in the meantime.
  if (!mayLogIn(a.authUnit, a) || !(await resetPasswordFailures(pool, a.number))) {
    await audit('login.failed');
    return { ok: false, why: 'wrong' };
  }
  const expired = now.getTime() - a.password!.setAt.getTime() > config.site.passwordTtlDays * 86_400_000;
  await audit('login', { with: 'password', authUnit: a.authUnit, expired });
  return { ok: true, account: a, mustChange: expired ? 'expired' : undefined };
}

/** 10 wrong in a row: the password is invalid. Sessions end; the subscriber is told by mail. */
async function passwordLocked(deps: LoginDeps, account: SiteAccount, failures: number, source: string): Promise<void> {
  const now = deps.clock.now();
  await endSessionsOf(deps.pool, account.number);
  const noticeTo = await mailPasswordLocked(deps.pool, deps.config, account, now);
  await writeAudit(deps.pool, { actor: account.number, action: 'lock.password', subject: account.number, detail: { failures, noticeTo }, source, at: now });
}

/** Wrong passwords keep coming: the owner hears of it before the lock. */
async function loginWarning(deps: LoginDeps, account: SiteAccount, failures: number, source: string): Promise<void> {
  const now = deps.clock.now();
  const noticeTo = await mailLoginWarning(deps.pool, deps.config, account, failures, now);
  await writeAudit(deps.pool, { actor: account.number, action: 'login.warning', subject: account.number, detail: { failures, noticeTo }, source, at: now });
}

/**
 * Checks an entered current password of the account (its temp password when `temp`), counting a
 * wrong one like a failed login — behind the same throttle, so a page behind login is no way round it.
 */
export type CurrentCheck = 'right' | 'wrong' | 'throttled';

export async function checkCurrentPassword(deps: LoginDeps, account: SiteAccount, entered: string, temp: boolean, source: string): Promise<CurrentCheck> {
  const outcome = await attemptLogin(deps, source, {
    subject: account.number,
    credentialSince: credentialSince(account),
    secrets: secretsOf(deps, account, source, temp ? 'temp' : 'password'),
    entered,
    checks: 1,
    warn: (failures) => loginWarning(deps, account, failures, source),
  });
  if (outcome.ok) return 'right';
  await writeAudit(deps.pool, { actor: account.number, action: 'password.current_wrong', subject: account.number, detail: { throttled: outcome.why === 'throttled' }, source, at: deps.clock.now() });
  return outcome.why;
}
