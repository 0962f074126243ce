// A legacy-site login (サービス設定ホームページ): one number, one service (着信お知らせメール), kept
// in the shared session beside the new site's login. Checked on every request: the idle limit
// (30 minutes), the absolute limit, the contract still on pattern B, the service still subscribed.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { loadLegacyAccount, type LegacyAccount } from '../../store/legacy-accounts.ts';
import type { SiteContext } from '../foundation.ts';
import { dueForTouch, sessionExpired } from '../session.ts';

export interface LegacyLoginState {
  number: string;
  /** Login time and last activity, ms since epoch by the site's clock. */
  at: number;
  lastSeen: number;
  /** After a temp-password login the password must be set before anything else. */
  mustSetPassword?: boolean;
}

declare module 'fastify' {
  interface Session {
    legacy?: LegacyLoginState;
  }
  interface FastifyRequest {
    /** Set by the legacy login check. */
    legacyLogin: { state: LegacyLoginState; account: LegacyAccount };
  }
}

export const LEGACY_SERVICE = 'chakushin_mail';

export type LegacyCheck = { ok: true; state: LegacyLoginState; account: LegacyAccount } | { ok: false; why: 'none' | 'timeout' | 'gone' | 'migrated' };

export async function checkLegacyLogin(req: FastifyRequest, ctx: SiteContext): Promise<LegacyCheck> {
  const state = req.session.get('legacy');
  if (!state) return { ok: false, why: 'none' };
  const now = ctx.deps.clock.now().getTime();
  if (sessionExpired(state, now, ctx.limits)) {
    await req.session.destroy();
    return { ok: false, why: 'timeout' };
  }
  const account = await loadLegacyAccount(ctx.deps.pool, state.number);
  // 設備変更工事 moved the contract to pattern A, or the service was cancelled: the legacy site is done with it.
  if (!account || account.pattern !== 'B' || !account.services.includes(LEGACY_SERVICE)) {
    await req.session.destroy();
    return { ok: false, why: account?.pattern === 'A' ? 'migrated' : 'gone' };
  }
  if (dueForTouch(state, now)) req.session.set('legacy', { ...state, lastSeen: now });
  return { ok: true, state, account };
}

/** preHandler for the legacy pages behind login; `setup` is the forced password page itself. */
export function requireLegacyLogin(ctx: SiteContext, loginPath: string, setupPath: string, setup = false): preHandlerAsyncHookHandler {
  return async function (req: FastifyRequest, reply: FastifyReply) {
    const check = await checkLegacyLogin(req, ctx);
    if (!check.ok) return reply.redirect(check.why === 'none' ? loginPath : `${loginPath}?${check.why}=1`, 303);
    req.legacyLogin = { state: check.state, account: check.account };
    if (!setup && check.state.mustSetPassword) return reply.redirect(setupPath, 303);
  };
}
