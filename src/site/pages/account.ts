// Pattern A's entrance: ログイン, トップ, サービス選択, パスワード変更, ログアウト.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { passwordRefusal } from '../../domain/password.ts';
import { hashPassword, verifyPassword } from '../../store/password-hash.ts';
import { loadSiteAccount, setSitePassword } from '../../store/site-accounts.ts';
import { withTransaction } from '../../store/transaction.ts';
import type { PageSet, SiteContext } from '../foundation.ts';
import { checkCurrentPassword, logIn } from '../login.ts';
import { MSG, PASSWORD_MESSAGES } from '../messages.ts';
import { endSessionsOf } from '../session-store.ts';
import { checkLogin } from '../session.ts';
import { loginRateLimit } from '../rate-limit-store.ts';

type Body = Record<string, string | undefined>;
const field = (req: FastifyRequest, name: string) => {
  const v = (req.body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

export const CHAKUSHIN_MAIL_PATH = '/chakushin-mail';

export function accountPages(): PageSet {
  return { prefix: '', register };
}

function register(app: Parameters<PageSet['register']>[0], ctx: SiteContext) {
  const { deps } = ctx;

  const loginPage = (req: FastifyRequest, reply: FastifyReply, extra: { notice?: string; errors?: Record<string, string>; number?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'login', { title: 'ログイン', notice: extra.notice, errors: extra.errors ?? {}, values: { number: extra.number ?? '' } }, status);

  app.get('/', async (req, reply) => {
    const check = await checkLogin(req, deps.pool, deps.clock, ctx.limits);
    if (!check.ok) {
      const q = req.query as Record<string, string>;
      return loginPage(req, reply, { notice: check.why === 'timeout' || q.timeout ? MSG.timeout : q.bye ? MSG.loggedOut : undefined });
    }
    req.login = check.login;
    if (check.login.state.mustChange) return reply.redirect('/password', 303);
    const next = await ctx.gate(req, check.login);
    if (next) return reply.redirect(next, 303);
    const changed = (req.query as Record<string, string>).changed;
    return ctx.render(req, reply, 'top', { title: 'ひかり電話設定サイト トップ', notice: changed ? MSG.passwordChanged : undefined });
  });

  app.post(
    '/login',
    loginRateLimit(deps.config.site.loginRateLimit),
    async (req, reply) => {
      const number = field(req, 'number').trim();
      const result = await logIn(deps, number, field(req, 'password'), req.ip);
      if (!result.ok) return loginPage(req, reply, { errors: { password: MSG.loginFailed }, number }, 401);
      // A new session id at login: an id planted before login is worth nothing after it.
      await req.session.regenerate();
      const now = deps.clock.now().getTime();
      req.session.set('login', { number: result.account.number, at: now, lastSeen: now, mustChange: result.mustChange });
      return reply.redirect(result.mustChange ? '/password' : '/', 303);
    },
  );

  app.post('/logout', async (req, reply) => {
    const state = req.session.get('login');
    if (state) await ctx.audit(req, { actor: state.number, action: 'logout', subject: state.number });
    await req.session.destroy();
    return reply.redirect('/?bye=1', 303);
  });

  app.get('/services', { preHandler: ctx.requireLogin }, async (req, reply) => {
    const withMail = req.login.scope.some((n) => n.services.includes('chakushin_mail'));
    const services = withMail ? [{ name: '着信お知らせメール', href: CHAKUSHIN_MAIL_PATH }] : [];
    return ctx.render(req, reply, 'services', { title: 'サービス選択', services });
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

  app.get('/password', { preHandler: ctx.requireSession }, async (req, reply) => {
    const target = targetOf(req, (req.query as Record<string, string>).number);
    if (!target) return scopeRefused(ctx, req, reply, (req.query as Record<string, string>).number);
    return passwordPage(req, reply, target);
  });

  app.post('/password', { preHandler: ctx.requireSession }, async (req, reply) => {
    const login = req.login;
    const target = targetOf(req, field(req, 'target'));
    if (!target) return scopeRefused(ctx, req, reply, field(req, 'target'));
    const current = field(req, 'current');
    const next = field(req, 'next');
    const confirm = field(req, 'confirm');
    // 現在のパスワード is the login's own (its temp password right after a temp-password login).
    if (!(await checkCurrentPassword(deps, login.account, current, login.state.mustChange === 'temp', req.ip))) {
      const still = await checkLogin(req, deps.pool, deps.clock, ctx.limits);
      const locked = (await loadSiteAccount(deps.pool, login.account.number))?.password?.lockedAt;
      if (!still.ok || locked) {
        await req.session.destroy();
        return reply.redirect('/', 303);
      }
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
      return ctx.render(req, reply, 'password-done', { title: 'パスワード変更', changed: target, toLogin: true });
    }
    if (own) {
      // New password, new session id (the old row was ended above).
      const state = login.state;
      await req.session.regenerate();
      const now = deps.clock.now().getTime();
      req.session.set('login', { ...state, mustChange: undefined, lastSeen: now });
      if (state.mustChange) return reply.redirect('/?changed=1', 303);
    }
    return ctx.render(req, reply, 'password-done', { title: 'パスワード変更', changed: target, toLogin: false, back: '/' });
  });
}

/** A number outside the login's 認証単位 scope: refused the same way whether or not it exists. */
export async function scopeRefused(ctx: SiteContext, req: FastifyRequest, reply: FastifyReply, asked: string | undefined) {
  await ctx.audit(req, { action: 'scope.refused', subject: asked && /^\d{1,11}$/.test(asked) ? asked : null, detail: { url: req.url.split('?')[0] } });
  return ctx.render(req, reply, 'error', { title: '設定できません', message: 'この電話番号の設定は、ログインした電話番号からは変更できません。' }, 403);
}
