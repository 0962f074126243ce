// What every login of the sites shares (設定サイト, legacy site, hand-over, 回線情報通知): the
// throttle before anything is checked (per subject and source, and a delay per subject: no stranger
// can use a subject's strikes up), the secrets checked at one cost whatever exists (unknown, locked
// and wrong look alike), a wrong entry counted against every secret that could have been meant, the
// owner warned once while failures keep coming, and a right one ending the streak. A realm loads its
// credential (applying the usable rule of src/domain/credential.ts), calls attemptLogin, and on
// success opens the session with SiteContext.openSession.
import { isIPv6 } from 'node:net';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import { admitAttempt, attemptSucceeded, warnOnce } from '../store/login-throttle.ts';
import { hashPassword, verifyPassword } from '../store/password-hash.ts';

export interface LoginSecret {
  hash: string;
  /** Counts a wrong entry against this secret (its own strikes: 3 for a temp password, 10 for a password). */
  countWrong(): Promise<void>;
}

export interface LoginAttempt<S extends LoginSecret> {
  /** What the login names (a phone number, an お客さまID); null when the input is not one. */
  subject: string | null;
  /** When the subject's credentials were last set: a streak of failures from before then is over. */
  credentialSince?: Date;
  /** The secrets that may still be used, most preferred first. */
  secrets: S[];
  entered: string;
  /** scrypt checks every attempt costs, whatever exists. */
  checks: number;
  /** Tells the owner that failures keep coming (once per streak, at site.loginThrottle.warnAtFailures). */
  warn?(failures: number): Promise<void>;
}

export type LoginOutcome<S> =
  | { ok: true; secret: S }
  | { ok: false; why: 'wrong' }
  /** Not checked at all: this source used its share of the subject's strikes, or the subject's delay runs. */
  | { ok: false; why: 'throttled'; retryAfterSec?: number };

export interface LoginDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
}

let dummyHash: Promise<string> | undefined;
/** Checked against when there is no real secret to check, so every attempt costs the same. */
const dummy = () => (dummyHash ??= hashPassword('chakushin-no-such-secret'));

/** The source a throttle counts: an IPv4 address, or an IPv6 address's /64 (one host has them all). */
export function clientSource(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export async function attemptLogin<S extends LoginSecret>(deps: LoginDeps, source: string, a: LoginAttempt<S>): Promise<LoginOutcome<S>> {
  const rules = deps.config.site.loginThrottle;
  const now = deps.clock.now();
  if (a.subject) {
    const admission = await admitAttempt(deps.pool, { subject: a.subject, source: clientSource(source), now, credentialSince: a.credentialSince, rules });
    if (!admission.admitted) return { ok: false, why: 'throttled', retryAfterSec: admission.why === 'delay' ? admission.retryAfterSec : undefined };
  }
  const hashes = a.secrets.map((s) => s.hash);
  while (hashes.length < a.checks) hashes.push(await dummy());
  const right = await Promise.all(hashes.map((h) => verifyPassword(a.entered, h)));
  const proved = a.secrets.find((_, i) => right[i]);
  if (proved) {
    if (a.subject) await attemptSucceeded(deps.pool, a.subject);
    return { ok: true, secret: proved };
  }
  for (const s of a.secrets) await s.countWrong();
  if (a.subject && a.warn && (await warnOnce(deps.pool, a.subject, rules.warnAtFailures, now))) await a.warn(rules.warnAtFailures);
  return { ok: false, why: 'wrong' };
}
