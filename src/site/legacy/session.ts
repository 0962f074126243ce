// A legacy-site login (サービス設定ホームページ): one number and one service, each service with its
// own password. Checked on every request: the idle limit (30 minutes), the absolute limit, the
// contract still on pattern B, the service still subscribed.
import type { FastifyRequest } from 'fastify';
import { loadLegacyAccount, type LegacyAccount, type LegacyRealm } from '../../store/legacy-accounts.ts';
import type { SiteContext } from '../foundation.ts';
import type { SessionOwner } from '../session.ts';

export const LEGACY_REALM = 'legacy';

export interface LegacyState {
  /** The service this login is for (its password realm). */
  service: LegacyRealm;
  /** After a temp-password login the password must be set before anything else. */
  mustSetPassword?: boolean;
}

declare module 'fastify' {
  interface Session {
    legacy?: LegacyState;
  }
  interface FastifyRequest {
    /** Set by the legacy login hook. */
    legacyLogin: { owner: SessionOwner; state: LegacyState; account: LegacyAccount };
  }
}

export type LegacyCheck = { ok: true; owner: SessionOwner; state: LegacyState; account: LegacyAccount } | { ok: false; why: 'none' | 'timeout' | 'gone' | 'migrated' };

export async function checkLegacyLogin(req: FastifyRequest, ctx: SiteContext, service: LegacyRealm): Promise<LegacyCheck> {
  const session = await ctx.sessionOf(req, LEGACY_REALM);
  if (!session.ok) return session;
  const state = req.session.get('legacy');
  if (state?.service !== service) return { ok: false, why: 'none' };
  const account = await loadLegacyAccount(ctx.deps.pool, session.owner.number!);
  // 設備変更工事 moved the contract to pattern A, or the service was cancelled: the legacy site is done with it.
  if (!account || account.pattern !== 'B' || !account.services.includes(service)) {
    await req.session.destroy();
    return { ok: false, why: account?.pattern === 'A' ? 'migrated' : 'gone' };
  }
  req.who = account.number;
  return { ok: true, owner: session.owner, state, account };
}
