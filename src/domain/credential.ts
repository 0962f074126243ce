// Whether a secret a subscriber holds may still be used to log in: the one rule every login of the
// sites and the operator's status command apply.

export interface TempSecret {
  expiresAt: Date;
  failedAttempts: number;
  usedAt: Date | null;
}

export interface PasswordSecret {
  lockedAt: Date | null;
}

export type TempState = 'valid' | 'used' | 'locked' | 'expired';

/** A temp password (仮パスワード) is valid while unused, with fewer wrong entries than allowed (3), unexpired (24 h). */
export function tempState(t: TempSecret, now: Date, maxFailures: number): TempState {
  if (t.usedAt) return 'used';
  if (t.failedAttempts >= maxFailures) return 'locked';
  return t.expiresAt > now ? 'valid' : 'expired';
}

export const tempUsable = (t: TempSecret | undefined, now: Date, maxFailures: number): boolean => Boolean(t && tempState(t, now, maxFailures) === 'valid');

/** A password: not made invalid by 10 wrong entries in a row. */
export const passwordUsable = (p: PasswordSecret | undefined): boolean => Boolean(p && !p.lockedAt);
