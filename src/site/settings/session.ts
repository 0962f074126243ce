// A 設定サイト (pattern A) login as each request sees it: the session's own state, and the
// account and 認証単位 scope read fresh from PostgreSQL on every request, so a change of unit,
// number or contract is in effect at the next click.
import type { FastifyRequest } from 'fastify';
import { adminUserRole, numbersInScope, passwordScope } from '../../domain/auth-unit.ts';
import type { AuthUnit, ContractNumber } from '../../domain/subscriber.ts';
import { loadSiteAccount, type SiteAccount } from '../../store/site-accounts.ts';
import type { SiteContext } from '../foundation.ts';
import type { SessionOwner } from '../session.ts';

/** The realm's name: stored with its sessions (session.realm). */
export const SETTINGS_REALM = 'site';

/** What a pattern A session holds beside its owner. Login steps add their own flags (otp/pages.ts). */
export interface SettingsState {
  /** パスワード変更 must come first: after a temp-password login, or a password older than the limit. */
  mustChange?: 'temp' | 'expired';
}

declare module 'fastify' {
  interface Session {
    settings?: SettingsState;
  }
  interface FastifyRequest {
    /** Set by the realm's login hook: who is logged in and what they may set, as of this request. */
    login: SiteLogin;
  }
}

export interface SiteLogin {
  owner: SessionOwner;
  state: SettingsState;
  account: SiteAccount;
  unit: AuthUnit;
  role: '管理者' | 'ユーザ' | undefined;
  contract: ContractNumber[];
  /** Numbers whose settings this login may change. */
  scope: ContractNumber[];
  /** Numbers whose password this login may change. */
  passwordScope: ContractNumber[];
}

export type LoginCheck = { ok: true; login: SiteLogin } | { ok: false; why: 'none' | 'timeout' | 'gone' };

export async function checkLogin(req: FastifyRequest, ctx: SiteContext): Promise<LoginCheck> {
  const session = await ctx.sessionOf(req, SETTINGS_REALM);
  if (!session.ok) return session;
  const owner = session.owner;
  const account = await loadSiteAccount(ctx.deps.pool, owner.number!);
  const scope = account?.pattern === 'A' ? numbersInScope(account.authUnit, account, account.contract) : [];
  if (!account || scope.length === 0) {
    await req.session.destroy();
    return { ok: false, why: 'gone' };
  }
  const role = adminUserRole(account.authUnit, account);
  req.who = role ? `${account.number}（${role}）` : account.number;
  return {
    ok: true,
    login: {
      owner,
      state: req.session.get('settings') ?? {},
      account,
      unit: account.authUnit,
      role,
      contract: account.contract,
      scope,
      passwordScope: passwordScope(account.authUnit, account, account.contract),
    },
  };
}

/** Replaces part of the session's state. */
export function setState(req: FastifyRequest, patch: Partial<SettingsState>): void {
  req.session.set('settings', { ...req.session.get('settings'), ...patch });
}
