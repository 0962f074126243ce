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

/** A temp password (仮パスワード): unexpired (24 h), unused, fewer wrong entries than allowed (3). */
export const tempUsable = (t: TempSecret | undefined, now: Date, maxFailures: number): boolean =>
  Boolean(t && !t.usedAt && t.failedAttempts < maxFailures && t.expiresAt > now);

/** A password: not made invalid by 10 wrong entries in a row. */
export const passwordUsable = (p: PasswordSecret | undefined): boolean => Boolean(p && !p.lockedAt);
