// Login throttling in PostgreSQL (tables login_throttle, login_throttle_source, sql/008), shared by
// every instance: the decision is src/domain/login-throttle.ts. An attempt is let through and
// counted as a failure in one short transaction with the subject's row locked, before its secret is
// checked, so concurrent attempts from any number of instances each see the ones before them; a
// right entry then ends the streak.
import type pg from 'pg';
import { admit, type Admission, type ThrottleRules } from '../domain/login-throttle.ts';
import { withTransaction } from './transaction.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface AttemptRequest {
  subject: string;
  source: string;
  now: Date;
  /** When the subject's credentials were last set (a new temp password, a new password): an older streak is over. */
  credentialSince?: Date;
  rules: ThrottleRules;
}

/** Lets an attempt through (counted as a failure until attemptSucceeded), or says why not. */
export async function admitAttempt(pool: pg.Pool, a: AttemptRequest): Promise<Admission> {
  return withTransaction(pool, async (client) => {
    await client.query(
      'insert into login_throttle (subject, failures, streak_start, last_at) values ($1, 0, $2, $2) on conflict (subject) do nothing',
      [a.subject, a.now],
    );
    const { rows } = await client.query<{ failures: number; streak_start: Date; last_at: Date }>(
      'select failures, streak_start, last_at from login_throttle where subject = $1 for update',
      [a.subject],
    );
    let { failures, last_at: lastAt } = rows[0]!;
    if (a.credentialSince && a.credentialSince > rows[0]!.streak_start) {
      // The owner set the credential anew after this streak began: it is over.
      await client.query('update login_throttle set failures = 0, streak_start = $2, warned_at = null where subject = $1', [a.subject, a.now]);
      await client.query('delete from login_throttle_source where subject = $1', [a.subject]);
      failures = 0;
      lastAt = a.now;
    }
    const { rows: src } = await client.query<{ failures: number }>(
      'select failures from login_throttle_source where subject = $1 and source = $2',
      [a.subject, a.source],
    );
    const admission = admit({ failures, sourceFailures: src[0]?.failures ?? 0, lastAt }, a.now, a.rules);
    if (!admission.admitted) return admission;
    await client.query('update login_throttle set failures = failures + 1, last_at = $2 where subject = $1', [a.subject, a.now]);
    await client.query(
      `insert into login_throttle_source (subject, source, failures) values ($1, $2, 1)
       on conflict (subject, source) do update set failures = login_throttle_source.failures + 1`,
      [a.subject, a.source],
    );
    return admission;
  });
}

/** A right entry: the streak is over, for every source. */
export async function attemptSucceeded(db: Queryable, subject: string): Promise<void> {
  await db.query('delete from login_throttle where subject = $1', [subject]);
}

/** True once per streak, for the attempt that finds it at `atFailures` or more: the owner is warned then. */
export async function warnOnce(db: Queryable, subject: string, atFailures: number, now: Date): Promise<boolean> {
  const r = await db.query('update login_throttle set warned_at = $3 where subject = $1 and failures >= $2 and warned_at is null', [subject, atFailures, now]);
  return r.rowCount === 1;
}

/** Streaks quiet for `days` are forgotten; returns how many. */
export async function pruneLoginThrottle(db: Queryable, now: Date, days: number): Promise<number> {
  const r = await db.query('delete from login_throttle where last_at < $1', [new Date(now.getTime() - days * 86_400_000)]);
  return r.rowCount ?? 0;
}
