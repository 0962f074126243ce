// Rate-limit counters in PostgreSQL (table rate_limit), shared by every instance. A hit is one
// upsert: the row lock it takes makes hits from any number of instances count one after another,
// and a hit after the window has ended starts the next window in the same statement. Time is the
// database's now(), the one clock all instances share.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface RateLimitHit {
  /** Hits in the current window, this one included. */
  hits: number;
  /** Until the window ends. */
  ttlMs: number;
}

export async function countHit(db: Queryable, key: string, windowMs: number): Promise<RateLimitHit> {
  const { rows } = await db.query<{ hits: number; ttl_ms: number }>({
    name: 'rate_limit_hit',
    text: `insert into rate_limit as r (key, hits, window_ends_at) values ($1, 1, now() + $2::float8 * interval '1 millisecond')
           on conflict (key) do update set
             hits = case when r.window_ends_at <= now() then 1 else r.hits + 1 end,
             window_ends_at = case when r.window_ends_at <= now() then excluded.window_ends_at else r.window_ends_at end
           returning r.hits, greatest(0, ceil(extract(epoch from r.window_ends_at - now()) * 1000))::float8 as ttl_ms`,
    values: [key, windowMs],
  });
  return { hits: rows[0]!.hits, ttlMs: rows[0]!.ttl_ms };
}

/** Drops counters whose window has ended; returns how many. */
export async function pruneRateLimits(db: Queryable): Promise<number> {
  const r = await db.query('delete from rate_limit where window_ends_at <= now()');
  return r.rowCount ?? 0;
}
