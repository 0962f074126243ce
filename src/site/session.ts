// What a logged-in session holds, and the per-request checks every page behind login shares:
// idle and absolute limits (by the injected clock), the forced password change, and the
// 認証単位 scope read fresh from PostgreSQL on every request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { adminUserRole, numbersInScope, passwordScope } from '../domain/auth-unit.ts';
import type { AuthUnit, ContractNumber } from '../domain/subscriber.ts';
import type { Clock } from '../domain/clock.ts';
import { loadSiteAccount, type SiteAccount } from '../store/site-accounts.ts';

export interface SiteLoginState {
  number: string;
  /** Login time and last activity, ms since epoch by the site's clock. */
  at: number;
  lastSeen: number;
  /** パスワード変更 must come first: after a temp-password login, or a password older than the limit. */
  mustChange?: 'temp' | 'expired';
}

declare module 'fastify' {
  interface Session {
    login?: SiteLoginState;
  }
  interface FastifyRequest {
    /** Set by requireLogin: who is logged in and what they may set, as of this request. */
    login: SiteLogin;
  }
}

export interface SiteLogin {
  state: SiteLoginState;
  account: SiteAccount;
  unit: AuthUnit;
  role: '管理者' | 'ユーザ' | undefined;
  contract: ContractNumber[];
  /** Numbers whose settings this login may change. */
  scope: ContractNumber[];
  /** Numbers whose password this login may change. */
  passwordScope: ContractNumber[];
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** Login time and last activity of any of the site's logins (設定サイト, legacy, 回線情報通知, hand-over). */
export interface SessionTimes {
  at: number;
  lastSeen: number;
}

/** Past the idle or the absolute limit: the session must end. */
export function sessionExpired(state: SessionTimes, now: number, limits: SessionLimits): boolean {
  return now - state.lastSeen > limits.idleMs || now - state.at > limits.absoluteMs;
}

/** Only touch the stored session when last activity is this stale: no write per page view. */
export function dueForTouch(state: SessionTimes, now: number): boolean {
  return now - state.lastSeen > 30_000;
}

export type LoginCheck = { ok: true; login: SiteLogin } | { ok: false; why: 'none' | 'timeout' | 'gone' };

export async function checkLogin(req: FastifyRequest, pool: pg.Pool, clock: Clock, limits: SessionLimits): Promise<LoginCheck> {
  const state = req.session.get('login');
  if (!state) return { ok: false, why: 'none' };
  const now = clock.now().getTime();
  if (sessionExpired(state, now, limits)) {
    await req.session.destroy();
    return { ok: false, why: 'timeout' };
  }
  const account = await loadSiteAccount(pool, state.number);
  if (!account || account.pattern !== 'A') {
    await req.session.destroy();
    return { ok: false, why: 'gone' };
  }
  const contract = account.contract;
  const scope = numbersInScope(account.authUnit, account, contract);
  if (scope.length === 0) {
    await req.session.destroy();
    return { ok: false, why: 'gone' };
  }
  if (dueForTouch(state, now)) req.session.set('login', { ...state, lastSeen: now });
  return {
    ok: true,
    login: {
      state,
      account,
      unit: account.authUnit,
      role: adminUserRole(account.authUnit, account),
      contract,
      scope,
      passwordScope: passwordScope(account.authUnit, account, contract),
    },
  };
}

export function redirectToLogin(reply: FastifyReply, why: 'none' | 'timeout' | 'gone') {
  return reply.redirect(why === 'timeout' ? '/?timeout=1' : '/', 303);
}
