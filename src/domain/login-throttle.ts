// When a login attempt may be tried at all (issue 18; OWASP ASVS 5.0 V6.3, NIST SP 800-63B §5.2.2).
// Phone numbers and お客さまIDs are public, so the guides' lockout (10 wrong passwords make a password
// invalid) must not be a stranger's tool: one source may spend only a few of a subject's strikes,
// and past a few failures in a row every source waits longer before each next try, so attempts
// spread over many sources are slow and the owner is warned long before the lock.
export interface ThrottleRules {
  /** Wrong entries one source may make for one subject in a streak (well below the lock's 10). */
  perSourceFailures: number;
  /** Failures in a row (from every source) before the subject's delay starts. */
  freeFailures: number;
  /** The first delay; each further failure doubles it, up to delayMaxSec. */
  delayBaseSec: number;
  delayMaxSec: number;
  /** At this many failures in a row the owner is told by mail (once per streak). */
  warnAtFailures: number;
}

export interface ThrottleState {
  /** Failures in a row of the subject's current streak, from every source. */
  failures: number;
  /** Of them, from this source. */
  sourceFailures: number;
  /** When the last attempt was let through. */
  lastAt: Date;
}

export type Admission = { admitted: true } | { admitted: false; why: 'source' } | { admitted: false; why: 'delay'; retryAfterSec: number };

/** Seconds the subject waits after `failures` failures in a row before the next try. */
export function delayAfter(failures: number, rules: ThrottleRules): number {
  if (failures < rules.freeFailures) return 0;
  return Math.min(rules.delayMaxSec, rules.delayBaseSec * 2 ** (failures - rules.freeFailures));
}

export function admit(state: ThrottleState, now: Date, rules: ThrottleRules): Admission {
  if (state.sourceFailures >= rules.perSourceFailures) return { admitted: false, why: 'source' };
  const wait = delayAfter(state.failures, rules);
  const due = state.lastAt.getTime() + wait * 1000;
  if (wait > 0 && now.getTime() < due) return { admitted: false, why: 'delay', retryAfterSec: Math.ceil((due - now.getTime()) / 1000) };
  return { admitted: true };
}
