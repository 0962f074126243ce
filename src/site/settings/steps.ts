// The steps a 設定サイト login finishes before any other page, in the guide's order (001 p.5–8):
// パスワード変更 first (after a temp-password login, or a password past its 60 days), then the next
// login step (ワンタイムパスワード). The realm's one login hook sends a session to the first step it
// still has to do; a step's own pages are open while that step is the first one due.
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { SiteContext } from '../foundation.ts';
import { checkLogin, type SiteLogin } from './session.ts';

export const PASSWORD_PATH = '/password';

export interface LoginStep {
  name: string;
  /** Where this session must go for the step, or undefined when it is done (or not asked of it). */
  due(req: FastifyRequest, login: SiteLogin, ctx: SiteContext): Promise<string | undefined> | string | undefined;
}

/** パスワード変更 before anything else. */
export const passwordChangeStep: LoginStep = {
  name: 'password',
  due: (_req, login) => (login.state.mustChange ? PASSWORD_PATH : undefined),
};

/** The first step this session still has to do: its name and where to go. */
export async function firstDueStep(req: FastifyRequest, login: SiteLogin, ctx: SiteContext, steps: readonly LoginStep[]): Promise<{ step: string; path: string } | undefined> {
  for (const s of steps) {
    const path = await s.due(req, login, ctx);
    if (path) return { step: s.name, path };
  }
  return undefined;
}

export const loginPath = (why: 'none' | 'timeout' | 'gone') => (why === 'timeout' ? '/?timeout=1' : '/');

/**
 * The realm's login hook. Every page behind login takes it: the session, the account and its
 * 認証単位 scope as of now, then the steps. `step` names the step a page belongs to: it is open while
 * that step is the first one due (and once all are done); any other page waits for all of them.
 */
export function loginHook(ctx: SiteContext, steps: readonly LoginStep[], step?: string): preHandlerAsyncHookHandler {
  return async function (req, reply) {
    const check = await checkLogin(req, ctx);
    if (!check.ok) return reply.redirect(loginPath(check.why), 303);
    req.login = check.login;
    const due = await firstDueStep(req, check.login, ctx, steps);
    if (due && due.step !== step) return reply.redirect(due.path, 303);
  };
}
