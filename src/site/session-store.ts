// @fastify/session's store over the session table (src/store/sessions.ts), so every instance behind
// the proxy sees every session. Only sessions with an owner (a login) are saved: a browser that has
// not logged in costs no row.
import { createHash } from 'node:crypto';
import type { SessionStore } from '@fastify/session';
import type pg from 'pg';
import type { Clock } from '../domain/clock.ts';
import { deleteSession, loadSessionData, saveSession, sweepSessions } from '../store/sessions.ts';
import type { SessionOwner } from './session.ts';

const idHash = (id: string) => createHash('sha256').update(id).digest('base64url');

type Callback = (err?: unknown) => void;

export function pgSessionStore(pool: pg.Pool, clock: Clock, absoluteLimitMs: number): SessionStore & { sweep(): Promise<number> } {
  return {
    set(id, session, cb: Callback) {
      const owner = (session as { owner?: SessionOwner }).owner;
      if (!owner) return cb();
      saveSession(pool, {
        idHash: idHash(id),
        loginNumber: owner.number ?? null,
        customerId: owner.number ? null : (owner.customerId ?? null),
        realm: owner.realm,
        createdAt: new Date(owner.at),
        lastSeenAt: new Date(owner.lastSeen),
        expiresAt: new Date(owner.at + absoluteLimitMs),
        data: session,
      }).then(() => cb(), cb);
    },
    get(id, cb) {
      loadSessionData(pool, idHash(id), clock.now()).then((data) => cb(null, data as never), (err) => cb(err, null));
    },
    destroy(id, cb: Callback) {
      deleteSession(pool, idHash(id)).then(() => cb(), cb);
    },
    /** Drops sessions past their absolute limit; idle ones are refused on use and swept with them. */
    sweep: () => sweepSessions(pool, clock.now()),
  };
}
