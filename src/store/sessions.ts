// Site sessions (table session): what @fastify/session keeps for a logged-in browser, keyed by a
// SHA-256 of the session id (the id is a bearer token and is never stored). Every instance behind
// the proxy reads the same rows.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface SessionRow {
  idHash: string;
  /** A phone number's login (settings site, legacy site, hand-over) or an お客さまID's (回線情報通知). */
  loginNumber: string | null;
  customerId: string | null;
  realm: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  data: unknown;
}

export async function saveSession(db: Queryable, s: SessionRow): Promise<void> {
  await db.query(
    `insert into session (id_hash, login_number, customer_id, realm, auth_unit, created_at, last_seen_at, expires_at, data)
     values ($1, $2, $3, $4, null, $5, $6, $7, $8)
     on conflict (id_hash) do update set last_seen_at = excluded.last_seen_at, data = excluded.data`,
    [s.idHash, s.loginNumber, s.customerId, s.realm, s.createdAt, s.lastSeenAt, s.expiresAt, JSON.stringify(s.data)],
  );
}

/** The session's data while it is within its absolute limit. */
export async function loadSessionData(db: Queryable, idHash: string, now: Date): Promise<unknown> {
  const { rows } = await db.query({ name: 'site_session_get', text: 'select data from session where id_hash = $1 and expires_at > $2', values: [idHash, now] });
  return rows[0]?.data ?? null;
}

export async function deleteSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('delete from session where id_hash = $1', [idHash]);
}

/** Drops sessions past their absolute limit; returns how many. */
export async function sweepSessions(db: Queryable, now: Date): Promise<number> {
  const r = await db.query('delete from session where expires_at <= $1', [now]);
  return r.rowCount ?? 0;
}

/** Ends every session of a number (after its password is changed elsewhere or locked). */
export async function endSessionsOf(db: Queryable, number: string): Promise<void> {
  await db.query('delete from session where login_number = $1', [number]);
}
