// @fastify/session store in PostgreSQL (table session), so every instance behind the proxy sees
// every session. Rows are keyed by a SHA-256 of the id: the id is a bearer token and is never
// stored. Only logged-in sessions are saved (saveUninitialized is off, and only login sets data).
import { createHash } from 'node:crypto';
import type { SessionStore } from '@fastify/session';
import type pg from 'pg';
import type { Clock } from '../domain/clock.ts';
import type { LineInfoLoginState } from './line-info/session.ts';
import type { SiteLoginState } from './session.ts';

const idHash = (id: string) => createHash('sha256').update(id).digest('base64url');

type Callback = (err?: unknown) => void;
/** Who a saved session belongs to and its times (ms since epoch by the site's clock). */
type SessionOwner = Pick<SiteLoginState, 'number' | 'at' | 'lastSeen'>;

export function pgSessionStore(pool: pg.Pool, clock: Clock, absoluteLimitMs: number): SessionStore & { sweep(): Promise<number> } {
  return {
    set(id, session, cb: Callback) {
      // One realm per session: the settings site (a phone number), the legacy site or the
      // 設備変更工事 hand-over (a phone number too), or 回線情報通知 (an お客さまID).
      const s = session as { login?: SiteLoginState; legacy?: SessionOwner; handover?: SessionOwner; lineInfo?: LineInfoLoginState };
      const byNumber = s.login ?? s.legacy ?? s.handover;
      const who = byNumber ?? s.lineInfo;
      if (!who) return cb();
      const realm = s.login ? 'site' : s.legacy ? 'legacy' : s.handover ? 'handover' : 'line_info';
      pool
        .query(
          `insert into session (id_hash, login_number, customer_id, realm, auth_unit, created_at, last_seen_at, expires_at, data)
           values ($1, $2, $3, $4, null, $5, $6, $7, $8)
           on conflict (id_hash) do update set last_seen_at = excluded.last_seen_at, data = excluded.data`,
          [idHash(id), byNumber?.number ?? null, byNumber ? null : s.lineInfo!.customerId, realm, new Date(who.at), new Date(who.lastSeen), new Date(who.at + absoluteLimitMs), JSON.stringify(session)],
        )
        .then(() => cb(), cb);
    },
    get(id, cb) {
      pool
        .query({ name: 'site_session_get', text: 'select data from session where id_hash = $1 and expires_at > $2', values: [idHash(id), clock.now()] })
        .then((r) => cb(null, r.rows[0]?.data ?? null), (err) => cb(err, null));
    },
    destroy(id, cb: Callback) {
      pool.query('delete from session where id_hash = $1', [idHash(id)]).then(() => cb(), cb);
    },
    /** Drops sessions past their absolute limit; idle ones are refused on use and swept with them. */
    async sweep() {
      const r = await pool.query('delete from session where expires_at <= $1', [clock.now()]);
      return r.rowCount ?? 0;
    },
  };
}

/** Ends every session of a number (after its password is changed elsewhere or locked). */
export async function endSessionsOf(db: pg.Pool | pg.PoolClient, number: string): Promise<void> {
  await db.query('delete from session where login_number = $1', [number]);
}
