// The 設定サイト's entrance: ログイン, トップ (its menu, topMenu), サービス選択, パスワード変更, ログアウト.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { passwordRefusal } from '../../domain/password.ts';
import { hashPassword, verifyPassword } from '../../store/password-hash.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import { loadSiteAccount, setSitePassword } from '../../store/site-accounts.ts';
import { withTransaction } from '../../store/transaction.ts';
import { MSG, PASSWORD_MESSAGES, throttledMessage } from '../messages.ts';
import { loginRateLimit } from '../rate-limit-store.ts';
import type { SettingsContext } from './context.ts';
import { checkCurrentPassword, logIn } from './login.ts';
import { scopeRefused, SERVICES_PATH } from './services/common-pages.ts';
import type { MenuEntry } from './services/service-pages.ts';
import { SERVICE_PAGES } from './services/index.ts';
import { checkLogin, SETTINGS_REALM, setState, type SiteLogin } from './session.ts';
import { firstDueStep, PASSWORD_PATH } from './steps.ts';

type Body = Record<string, string | undefined>;
const field = (req: FastifyRequest, name: string) => {
  const v = (req.body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/** An entry of the トップ, shown to the logins it applies to. */
export interface TopEntry extends MenuEntry {
  shown?(login: SiteLogin): boolean;
}

export function registerAccount(app: FastifyInstance, ctx: SettingsContext, topMenu: readonly TopEntry[]) {
  const { deps } = ctx;

  const loginPage = (req: FastifyRequest, reply: FastifyReply, extra: { notice?: string; errors?: Record<string, string>; number?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'login', { title: 'ログイン', notice: extra.notice, errors: extra.errors ?? {}, values: { number: extra.number ?? '' } }, status);

  app.get('/', async (req, reply) => {
    const check = await checkLogin(req, ctx);
    if (!check.ok) {
      const q = req.query as Record<string, string>;
      return loginPage(req, reply, { notice: check.why === 'timeout' || q.timeout ? MSG.timeout : q.bye ? MSG.loggedOut : undefined });
    }
    req.login = check.login;
    const due = await firstDueStep(req, check.login, ctx, ctx.steps);
    if (due) return reply.redirect(due.path, 303);
    const changed = (req.query as Record<string, string>).changed;
    const entries = topMenu.filter((e) => e.shown?.(check.login) ?? true).map((e) => ({ ...e, href: e.path }));
    return ctx.render(req, reply, 'top', { title: 'ひかり電話設定サイト トップ', notice: changed ? MSG.passwordChanged : undefined, entries });
  });

  app.post('/login', loginRateLimit(deps.config.site.loginRateLimit), async (req, reply) => {
    const number = field(req, 'number').trim();
    const result = await logIn(deps, number, field(req, 'password'), req.ip);
    if (!result.ok) {
      if (result.why === 'throttled') {
        if (result.retryAfterSec) reply.header('retry-after', String(result.retryAfterSec));
        return loginPage(req, reply, { errors: { form: throttledMessage(result.retryAfterSec) }, number }, 429);
      }
      return loginPage(req, reply, { errors: { form: MSG.loginFailed }, number }, 401);
    }
    await ctx.openSession(req, reply, { realm: SETTINGS_REALM, number: result.account.number });
    setState(req, { mustChange: result.mustChange });
    return reply.redirect(result.mustChange ? PASSWORD_PATH : '/', 303);
  });

  app.post('/logout', async (req, reply) => {
    const owner = req.session.get('owner');
    if (owner?.realm === SETTINGS_REALM) await ctx.audit(req, { action: 'logout', subject: owner.number ?? null });
    await req.session.destroy();
    return reply.redirect('/?bye=1', 303);
  });

  app.get(SERVICES_PATH, { preHandler: ctx.requireLogin }, async (req, reply) => {
    const services = SERVICE_PAGES.filter((s) => req.login.scope.some((n) => n.services.includes(s.service))).map((s) => ({ label: s.name, href: s.path, description: s.description }));
    return ctx.render(req, reply, 'services', { title: 'サービス選択', entries: services });
  });

  const passwordPage = (req: FastifyRequest, reply: FastifyReply, target: string, errors: Record<string, string> = {}, status = 200) => {
    const forced = req.login.state.mustChange;
    return ctx.render(
      req,
      reply,
      'password',
      {
        title: 'パスワード変更',
        number: target,
        forced: Boolean(forced),
        reason: forced === 'temp' ? MSG.mustChangeTemp : forced === 'expired' ? MSG.mustChangeExpired : undefined,
        // A forced change is of the login's own password only.
        targets: forced ? [] : req.login.passwordScope.map((n) => n.number),
        errors,
      },
      status,
    );
  };
  const targetOf = (req: FastifyRequest, asked: string | undefined) => {
    if (!asked || req.login.state.mustChange) return req.login.account.number;
    return req.login.passwordScope.some((n) => n.number === asked) ? asked : undefined;
  };
  const passwordStep = { preHandler: ctx.requireStep('password') };

  app.get(PASSWORD_PATH, passwordStep, async (req, reply) => {
    const asked = (req.query as Record<string, string>).number;
    const target = targetOf(req, asked);
    if (!target) return scopeRefused(ctx, req, reply, asked);
    return passwordPage(req, reply, target);
  });

  app.post(PASSWORD_PATH, passwordStep, async (req, reply) => {
    const login = req.login;
    const target = targetOf(req, field(req, 'target'));
    if (!target) return scopeRefused(ctx, req, reply, field(req, 'target'));
    const current = field(req, 'current');
    const next = field(req, 'next');
    const confirm = field(req, 'confirm');
    // 現在のパスワード is the login's own (its temp password right after a temp-password login).
    const check = await checkCurrentPassword(deps, login.account, current, login.state.mustChange === 'temp', req.ip);
    if (check !== 'right') {
      const still = await checkLogin(req, ctx);
      const locked = (await loadSiteAccount(deps.pool, login.account.number))?.password?.lockedAt;
      if (!still.ok || locked) {
        await req.session.destroy();
        return reply.redirect('/', 303);
      }
      if (check === 'throttled') return passwordPage(req, reply, target, { form: throttledMessage() }, 429);
      return passwordPage(req, reply, target, { current: MSG.currentWrong }, 400);
    }
    const targetAccount = target === login.account.number ? login.account : await loadSiteAccount(deps.pool, target);
    if (!targetAccount) return scopeRefused(ctx, req, reply, target);
    const sameAsCurrent =
      target === login.account.number
        ? next === current
        : Boolean(targetAccount.password && (await verifyPassword(next, targetAccount.password.hash)));
    const refusal = passwordRefusal(next, { sameAsCurrent, contractNumbers: login.contract.map((n) => n.number) });
    if (refusal) return passwordPage(req, reply, target, { next: PASSWORD_MESSAGES[refusal] }, 400);
    if (next !== confirm) return passwordPage(req, reply, target, { confirm: MSG.confirmMismatch }, 400);

    const hash = await hashPassword(next);
    await withTransaction(deps.pool, async (client) => {
      await setSitePassword(client, target, hash, deps.clock.now());
      // Other sessions of that number end: whoever knew the old password is out.
      await endSessionsOf(client, target);
      await ctx.audit(req, { action: 'password.change', subject: target, detail: { forced: login.state.mustChange ?? null } }, client);
    });
    const own = target === login.account.number;
    if (own && login.account.role === 'main' && !login.state.mustChange) {
      // The guide: changing the 契約者回線番号's password ends with 「ログイン画面へ」.
      await req.session.destroy();
      req.who = null;
      return ctx.render(req, reply, 'password-done', { title: 'パスワード変更', changed: target, toLogin: true });
    }
    if (own) {
      // A new password is a privilege change: a new session id and CSRF secret (the old row was ended above).
      const { state, owner } = login;
      await ctx.openSession(req, reply, { realm: SETTINGS_REALM, number: target, at: owner.at });
      setState(req, { ...state, mustChange: undefined });
      if (state.mustChange) return reply.redirect('/?changed=1', 303);
    }
    return ctx.render(req, reply, 'password-done', { title: 'パスワード変更', changed: target, toLogin: false, back: '/' });
  });
}
