// A logged-in session, whatever its realm: who opened it, in which realm, and when. Each realm
// keeps its own state beside it under its own key; its pages accept only sessions it opened, so a
// login of one realm (回線情報通知, say) never opens another's pages.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.ts';
import type { Csrf } from './csrf.ts';

export interface SessionOwner {
  /** The realm that opened it (Realm.name). */
  realm: string;
  /** A phone number's login (設定サイト, legacy site, hand-over)… */
  number?: string;
  /** …or an お客さまID's (回線情報通知). */
  customerId?: string;
  /** Login time and last activity, ms since epoch by the site's clock. */
  at: number;
  lastSeen: number;
}

declare module 'fastify' {
  interface Session {
    owner?: SessionOwner;
    /** This session's CSRF secret: new with every owner (csrf.ts). */
    csrfSecret?: string;
  }
}

/**
 * The session's owner, if the request has a readable session: none after a logout (the session is
 * null) or when the store failed to load it (an error page is then drawn without one).
 */
export function ownerOf(req: FastifyRequest): SessionOwner | undefined {
  const session = req.session as { get?: unknown } | null | undefined;
  return typeof session?.get === 'function' ? req.session.get('owner') : undefined;
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** Past the idle or the absolute limit: the session must end. */
export function sessionExpired(owner: Pick<SessionOwner, 'at' | 'lastSeen'>, now: number, limits: SessionLimits): boolean {
  return now - owner.lastSeen > limits.idleMs || now - owner.at > limits.absoluteMs;
}

/** Only touch the stored session when last activity is this stale: no write per page view. */
const dueForTouch = (owner: SessionOwner, now: number) => now - owner.lastSeen > 30_000;

export type SessionCheck = { ok: true; owner: SessionOwner } | { ok: false; why: 'none' | 'timeout' };

export async function sessionOf(req: FastifyRequest, realm: string, clock: Clock, limits: SessionLimits): Promise<SessionCheck> {
  const owner = req.session.get('owner');
  if (!owner || owner.realm !== realm) return { ok: false, why: 'none' };
  const now = clock.now().getTime();
  if (sessionExpired(owner, now, limits)) {
    await req.session.destroy();
    return { ok: false, why: 'timeout' };
  }
  if (dueForTouch(owner, now)) req.session.set('owner', { ...owner, lastSeen: now });
  return { ok: true, owner };
}

/**
 * The one way a session gets an owner: at a login, and again at every privilege change (a new
 * password, the ワンタイムパスワード step passed). A new session id, so an id planted or seen before is
 * worth nothing after; a new CSRF secret, so no token issued before is accepted after.
 */
export async function openSession(req: FastifyRequest, reply: FastifyReply, csrf: Csrf, owner: SessionOwner): Promise<void> {
  await req.session.regenerate();
  req.session.set('owner', owner);
  csrf.renew(req, reply);
}
